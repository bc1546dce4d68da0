"""What a client gets for the failures uWSGI handles itself, before or instead of Django.

docs/api.md's error table lists these answers; this module measures them, so
the table changes when uWSGI does.
"""

import select
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from docker_helpers import docker, raw_exchange, raw_request, wait_for_http

# Connection: close, so that the server ends the connection after its answer and the reading stops.
HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"


@pytest.mark.parametrize(
    "request_bytes",
    [
        pytest.param(b"GARBAGE\r\n\r\n", id="malformed request line"),
        pytest.param(HEALTHZ + b"X-Big: " + b"b" * 20_000 + b"\r\n\r\n", id="headers over buffer-size"),
    ],
)
def test_a_request_uwsgi_cannot_read_is_closed_without_a_response(run_prod, request_bytes):
    _, url = run_prod()
    wait_for_http(f"{url}/healthz")

    # Closed or reset, either is "no response"; but not a response that a reset followed.
    received, reset = raw_exchange(url, request_bytes)
    assert received == b"", f"{received[:200]!r}, then {'a reset' if reset else 'closed'}"
    assert raw_request(url, HEALTHZ + b"\r\n").startswith(b"HTTP/1.1 200 OK\r\n")  # and serves on


def test_a_request_killed_by_harakiri_is_closed_without_a_response(run_harness, token):
    # A 1 s harakiri, and a request whose body trickles in for up to 30 s: it outlives harakiri.
    # One worker, with the default threads, while probes keep arriving: in uWSGI 2.0 a request
    # that ends on another thread of the worker would clear the stuck one's harakiri timer.
    worker = ["-e", "UWSGI_PROCESSES=1"]
    name, url = run_harness("uwsgi", "--ini", "config/uwsgi.ini", "--harakiri", "1", extra_args=worker)
    wait_for_http(f"{url}/healthz")
    host, port = url.removeprefix("http://").split(":")
    # With a token: without one, the POST would be refused before its body is read.
    head = b"POST /harness/records/ HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
    head += f"Authorization: Bearer {token}\r\n".encode()

    answer = None
    with socket.create_connection((host, int(port)), timeout=10) as sock, ThreadPoolExecutor() as probes:
        sock.sendall(head + b"Content-Length: 100\r\n\r\n")
        for _ in range(60):
            if select.select([sock], [], [], 0.5)[0]:
                answer = b"".join(iter(lambda: sock.recv(65536), b""))
                break
            sock.sendall(b" ")
            probes.submit(raw_request, url, HEALTHZ + b"\r\n")

    assert answer == b""
    deadline = time.monotonic() + 10
    while "HARAKIRI ON WORKER" not in docker("logs", name).stdout:  # the master logs it a moment later
        assert time.monotonic() < deadline, "no harakiri in the log"
        time.sleep(0.5)
    assert raw_request(url, HEALTHZ + b"\r\n").startswith(b"HTTP/1.1 200 OK\r\n")
