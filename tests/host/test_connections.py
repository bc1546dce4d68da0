"""Ordinary HTTP clients against the prod container: reused connections, answers before the body, bursts.

RFC 9112 section 9: HTTP/1.1 connections persist unless the server says
`Connection: close`; an answer given before the body is read must still reach
the client. And a burst beyond what the workers can take is queued or
answered with a 503, never dropped.
"""

import http.client
import json
import re
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from docker_helpers import IMAGE, build_wrk_image, docker, uwsgi_option, wait_for_http, wrk_failures

WITHOUT_ROUTER = ["-e", "UWSGI_HTTP_SOCKET=:8000"]


@pytest.fixture(scope="module")
def wrk_image():
    return build_wrk_image(f"{IMAGE}:wrk")


def api_headers(token):
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def address(url):
    host, port = url.removeprefix("http://").split(":")
    return host, int(port)


def test_http_client_sends_every_request_of_a_session_on_one_connection(run_harness, token):
    _, url = run_harness()
    wait_for_http(f"{url}/healthz")
    connection = http.client.HTTPConnection(*address(url), timeout=10)
    answers, local_ports = [], set()

    def send(method, path, body=None):
        connection.request(method, path, body=body, headers=api_headers(token))
        local_ports.add(connection.sock.getsockname()[1])
        response = connection.getresponse()
        raw = response.read()
        answers.append((method, response.status, response.getheader("Connection")))
        return json.loads(raw) if raw else None

    send("GET", "/harness/records/")
    record = send("POST", "/harness/records/", json.dumps({"kept": "alive"}))
    send("DELETE", f"/harness/records/{record['id']}/")  # a 204, which has no body
    send("GET", "/healthz")
    connection.close()

    assert answers == [("GET", 200, None), ("POST", 201, None), ("DELETE", 204, None), ("GET", 200, None)]
    assert len(local_ports) == 1, "a new connection was opened"


def test_httpx_reuses_its_connection(run_harness, token):
    _, url = run_harness()
    wait_for_http(f"{url}/healthz")

    statuses, client_ports = [], set()

    with httpx.Client(base_url=url, headers=api_headers(token), timeout=10) as client:
        for method, body in [("GET", None), ("GET", None), ("POST", {"from": "httpx"}), ("GET", None)]:
            response = client.request(method, "/harness/records/", json=body)
            statuses.append(response.status_code)
            client_ports.add(response.extensions["network_stream"].get_extra_info("client_addr")[1])

    assert statuses == [200, 200, 201, 200]
    assert len(client_ports) == 1, "a new connection was opened"


def test_without_the_router_each_answer_says_the_connection_closes(run_harness, token):
    _, url = run_harness(extra_args=WITHOUT_ROUTER)
    wait_for_http(f"{url}/healthz")

    with httpx.Client(base_url=url, headers=api_headers(token), timeout=10) as client:
        responses = [client.get("/harness/records/") for _ in range(3)]

    assert [(r.status_code, r.headers["Connection"]) for r in responses] == [(200, "close")] * 3


@pytest.mark.parametrize("router", [True, False], ids=["router", "without router"])
@pytest.mark.parametrize("size", [100_000, 3_000_000], ids=["100 KB", "3 MB"])
def test_an_oversized_body_gets_its_413_every_time(run_harness, token, router, size):
    # http.client sends the whole body before it reads: the answer must survive that.
    _, url = run_harness(extra_args=[] if router else WITHOUT_ROUTER)
    wait_for_http(f"{url}/healthz")
    answers = []
    for _ in range(10):
        connection = http.client.HTTPConnection(*address(url), timeout=10)
        try:
            connection.request("POST", "/harness/records/", body=b"x" * size, headers=api_headers(token))
            response = connection.getresponse()
            answers.append((response.status, response.getheader("Content-Type"), json.loads(response.read())["status"]))
        except (ConnectionError, http.client.HTTPException) as error:
            answers.append(repr(error))
        finally:
            connection.close()

    assert answers == [(413, "application/problem+json", 413)] * 10


def test_the_kernel_allows_the_listen_queue_uwsgi_asks_for(run_prod):
    name, url = run_prod()
    wait_for_http(f"{url}/healthz")

    somaxconn = int(docker("exec", name, "cat", "/proc/sys/net/core/somaxconn").stdout)

    assert somaxconn >= int(uwsgi_option("listen"))
    assert f"listen backlog is limited to {uwsgi_option('listen')} connections" in docker("logs", name).stdout


def test_512_connections_at_once_are_all_answered(run_harness, token, wrk_image):
    # wrk inside the container's network namespace: what is measured is the service, not Docker's proxy.
    name, url = run_harness()
    wait_for_http(f"{url}/healthz")
    load = ["-H", f"Authorization: Bearer {token}", "-t2", "-c512", "-d10s", "--timeout", "5s"]
    load.append("http://127.0.0.1:8000/harness/records/")

    output = docker("run", "--rm", "--network", f"container:{name}", wrk_image, *load).stdout

    assert wrk_failures(output) == dict.fromkeys(["connect", "read", "write", "timeout", "non_2xx"], 0), output
    assert int(re.search(r"(\d+) requests in", output)[1]) > 1000, output


def occupy_the_worker(url, stop):
    """Keeps one worker reading a request body that arrives a byte at a time, for 4 s or until `stop` is set.

    4 s: past the router's connect timeout, and well within harakiri.
    """
    with socket.create_connection(address(url), timeout=30) as sock:
        head = b"POST /harness/records/ HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        sock.sendall(head + b"Content-Length: 20\r\nConnection: close\r\n\r\n")
        for _ in range(20):
            sock.sendall(b" ")
            if stop.wait(0.2):
                break


def test_requests_beyond_capacity_are_answered_503_with_retry_after(run_harness):
    # One worker, kept busy, and a queue of two: the other requests have nowhere to wait.
    small = ["-e", "UWSGI_PROCESSES=1", "-e", "UWSGI_LISTEN=2"]
    name, url = run_harness(extra_args=small)
    wait_for_http(f"{url}/healthz")
    stop = threading.Event()
    busy = threading.Thread(target=occupy_the_worker, args=(url, stop))
    busy.start()

    def get(_):
        began = time.monotonic()
        with httpx.Client(base_url=url, timeout=15) as client:
            response = client.get("/healthz")
        return response, time.monotonic() - began

    try:
        with ThreadPoolExecutor(max_workers=10) as pool:
            answers = list(pool.map(get, range(10)))
    finally:
        stop.set()
        busy.join()

    shed = [(response, seconds) for response, seconds in answers if response.status_code == 503]
    assert {response.status_code for response, _ in answers} <= {200, 503}
    assert shed, "nothing was shed"
    connect_timeout = int(uwsgi_option("http-connect-timeout"))
    for response, seconds in shed:
        assert response.headers["Content-Type"] == "application/problem+json"
        assert response.headers["Retry-After"] == "1"
        assert response.json()["status"] == 503
        assert seconds < connect_timeout + 2, "shed, but not quickly"
    deadline = time.monotonic() + 5
    while len(shed_lines(name)) < len(shed):
        assert time.monotonic() < deadline, "a shed request left no log line"
        time.sleep(0.2)
    assert len(shed_lines(name)) == len(shed), docker("logs", name).stdout


def shed_lines(name):
    """The log lines of requests shed from outside: the image's own health check comes from 127.0.0.1."""
    lines = docker("logs", name).stdout.splitlines()
    return [line for line in lines if line.endswith("shed: at capacity") and not line.startswith("127.0.0.1 ")]
