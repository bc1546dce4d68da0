"""Slow clients (slowloris) against the prod container: they must not starve the workers."""

import socket
import threading
import time

from docker_helpers import http, wait_for_http

SLOW_CLIENTS = 50
# Bounded: the slow clients give up after this many seconds, whatever happens.
TRICKLE_SECONDS = 8
ANSWER_WITHIN = 1


def trickle_headers(url, stop):
    """Opens SLOW_CLIENTS connections and sends their request headers a byte a second until `stop` is set."""
    host, port = url.removeprefix("http://").split(":")
    head = b"GET /api/notes/ HTTP/1.1\r\nHost: localhost\r\nUser-Agent: " + b"s" * 100
    connections = [socket.create_connection((host, int(port)), timeout=5) for _ in range(SLOW_CLIENTS)]
    try:
        for position in range(TRICKLE_SECONDS):
            for connection in connections:
                try:
                    connection.send(head[position : position + 1])
                except OSError:
                    pass  # the server may close a slow connection: that is allowed
            if stop.wait(1):
                break
    finally:
        for connection in connections:
            connection.close()


def test_slow_clients_do_not_delay_an_ordinary_request(run_prod, token):
    _, url = run_prod()
    wait_for_http(f"{url}/healthz")
    stop = threading.Event()
    slow = threading.Thread(target=trickle_headers, args=(url, stop))
    slow.start()
    try:
        time.sleep(2)  # every slow client is connected and has sent part of its request
        timings = []
        for path in ["/healthz", "/api/notes/", "/readyz", "/api/notes/"]:
            began = time.monotonic()
            status = http("GET", f"{url}{path}", timeout=TRICKLE_SECONDS, token=token)[0]
            timings.append((path, status, round(time.monotonic() - began, 2)))
    finally:
        stop.set()
        slow.join()

    assert all(status == 200 for _, status, _ in timings), timings
    assert all(seconds < ANSWER_WITHIN for *_, seconds in timings), timings
