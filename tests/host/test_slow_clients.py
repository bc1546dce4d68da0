"""Slow clients (slowloris) against the prod container: they must not starve the workers."""

import select
import socket
import threading
import time

from docker_helpers import http, wait_for_http

SLOW_CLIENTS = 50
# Bounded: the slow clients give up after this many seconds, whatever happens.
TRICKLE_SECONDS = 8
ANSWER_WITHIN = 1
# The timings begin once each slow client has sent this many bytes, a second
# apart: a connection that has trickled, not one just opened.
TRICKLED_BYTES_BEFORE_TIMING = 2


class SlowClients:
    """SLOW_CLIENTS connections that send their request headers a byte a second, and what became of each.

    The connections are opened here, so that one refused fails the test at
    once. trickle() runs in a thread and records, per connection, the error
    that ended its sending, and whether it ran out of bytes before it was
    stopped; ended() asks each socket whether the server has answered or
    closed it. Together they say whether every slow client was still holding
    its connection, which the test's timings are worth nothing without.
    """

    HEAD = b"GET /harness/records/ HTTP/1.1\r\nHost: localhost\r\nUser-Agent: " + b"s" * 100

    def __init__(self, url):
        host, port = url.removeprefix("http://").split(":")
        self.connections = [socket.create_connection((host, int(port)), timeout=5) for _ in range(SLOW_CLIENTS)]
        self.failures = {}  # connection number: the error its sending met
        self.ran_out = False  # the trickle ended by itself, not when told to stop
        self.trickled = threading.Event()  # set once every connection has sent TRICKLED_BYTES_BEFORE_TIMING
        self.stop = threading.Event()

    def trickle(self):
        for position in range(TRICKLE_SECONDS):
            for number, connection in enumerate(self.connections):
                if number not in self.failures:
                    try:
                        connection.send(self.HEAD[position : position + 1])
                    except OSError as error:
                        self.failures[number] = repr(error)
            if position + 1 == TRICKLED_BYTES_BEFORE_TIMING:
                self.trickled.set()
            if self.stop.wait(1):
                return
        self.ran_out = True  # what was timed after this was timed without slow clients

    def ended(self):
        """The connections the server has answered, closed or reset (a slow client holds a silent one), by number."""
        readable, _, _ = select.select(self.connections, [], [], 0)
        ended = {}
        for connection in readable:
            try:
                ended[self.connections.index(connection)] = connection.recv(64, socket.MSG_PEEK) or "closed"
            except OSError as error:
                ended[self.connections.index(connection)] = repr(error)
        return ended

    def close(self):
        for connection in self.connections:
            connection.close()


def test_slow_clients_do_not_delay_an_ordinary_request(run_harness, token):
    _, url = run_harness()
    wait_for_http(f"{url}/healthz")
    slow = SlowClients(url)
    trickling = threading.Thread(target=slow.trickle)
    trickling.start()
    try:
        assert slow.trickled.wait(TRICKLE_SECONDS), "the slow clients did not trickle"
        timings = []
        for path in ["/healthz", "/harness/records/", "/readyz", "/harness/records/"]:
            began = time.monotonic()
            status = http("GET", f"{url}{path}", timeout=TRICKLE_SECONDS, token=token)[0]
            timings.append((path, status, round(time.monotonic() - began, 2)))
        # Checked while they still trickle: each one held its connection all the while.
        ended = slow.ended()
    finally:
        slow.stop.set()
        trickling.join()
        slow.close()

    assert not slow.failures, f"slow clients could not send: {slow.failures}"
    assert not slow.ran_out, f"the timings outlasted the slow clients' {TRICKLE_SECONDS} s"
    assert not ended, f"the server did not keep the slow clients waiting: {ended}"
    assert all(status == 200 for _, status, _ in timings), timings
    assert all(seconds < ANSWER_WITHIN for *_, seconds in timings), timings
