"""The prod container as a careful operator runs it, against a real PostgreSQL: serving, graceful, locked down."""

import json
import re
import secrets
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from http.client import HTTPConnection

import pytest
from docker_helpers import (
    REPO,
    docker,
    env_args,
    http,
    root_mount_options,
    tcp_sockets,
    wait_for_http,
    wait_until_ready,
    wait_until_started,
)

SETTINGS = (REPO / "config" / "settings.py").read_text()


def test_a_record_and_a_token_persist_across_a_restart_of_the_app_and_of_postgresql(run_harness, token, database):
    name, url = run_harness()
    assert wait_for_http(f"{url}/healthz")[0] == 200

    status, _, record = http("POST", f"{url}/harness/records/", {"kept": "across a restart"}, token=token)
    assert status == 201, record

    # Both: the app's restart proves nothing was kept only in a worker; PostgreSQL's,
    # stopped as a crash would stop it, that the 201 came after a durable commit.
    docker("restart", name)
    database.stop(mode="immediate")
    database.start()
    wait_for_http(f"{url}/healthz")
    wait_until_ready(url)

    # The token, made before both restarts, is accepted, and the record is there.
    status, _, found = http("GET", f"{url}/harness/records/{record['id']}/", token=token)
    assert (status, found) == (200, {"id": record["id"]})
    assert http("DELETE", f"{url}/harness/records/{record['id']}/", token=token)[0] == 204
    assert http("GET", f"{url}/harness/records/{record['id']}/", token=token)[0] == 404


def test_served_by_uwsgi_and_ready_with_the_database(run_prod, migrated):
    name, url = run_prod()
    wait_for_http(f"{url}/healthz")

    status, _, body = http("GET", f"{url}/readyz")
    assert (status, body) == (200, {"status": "ok"})
    # uWSGI's and Django's logs both go to stdout.
    assert "spawned uWSGI worker" in docker("logs", name).stdout


def test_errors_are_json(run_prod, migrated):
    _, url = run_prod()
    wait_for_http(f"{url}/healthz")

    status, headers, body = http("GET", f"{url}/no/such/page")

    assert status == 404
    assert headers["Content-Type"] == "application/problem+json"
    assert body["status"] == 404


# The share of the concurrent POSTs that must be written: room for a 503 or
# two of a loaded machine, none for a service that turns most of them away.
MOST_OF_THE_CONCURRENT_POSTS = 0.9


def test_concurrent_posts_are_each_written_whole_or_not_at_all(run_harness, token, database):
    _, url = run_harness()
    wait_for_http(f"{url}/healthz")
    bodies = [{"number": number, "text": f"body of post {number} " * 50} for number in range(50)]
    all_at_once = threading.Barrier(len(bodies), timeout=30)
    before = harness_rows(database)

    def post(body):
        all_at_once.wait()
        return http("POST", f"{url}/harness/records/", body, timeout=60, token=token)

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        answers = list(pool.map(post, bodies))

    created = set()
    for sent, (status, headers, body) in zip(bodies, answers, strict=True):
        assert status in {201, 503}, (status, body)
        if status == 201:
            assert body["received"] == sent, "the body was not read whole"
            created.add(body["id"])
        else:  # a clean failure: the error shape, and a status that says retry
            assert (headers["Content-Type"], body["status"]) == ("application/problem+json", 503), body
    # 50 requests fit uWSGI's queue (`listen`) many times over: a 503 is for a
    # database in trouble, not for this load, so nearly all must be written.
    assert len(created) >= MOST_OF_THE_CONCURRENT_POSTS * len(bodies), f"{len(created)} of {len(bodies)} written"
    # A row for each 201, none for a 503.
    assert harness_rows(database) - before == created


def harness_rows(database):
    """The ids of the rows the harness's POSTs wrote (tests/harness/views.py names them harness-...)."""
    return {int(row_id) for (row_id,) in database.query("SELECT id FROM api_token WHERE name LIKE 'harness-%'")}


def container_state(name, field):
    return docker("inspect", "--format", f"{{{{.State.{field}}}}}", name).stdout.strip()


# docker stop's default grace period, given explicitly: SIGTERM, then SIGKILL
# (exit code 137) this many seconds later; the grace docs/production.md speaks of.
STOP_GRACE_SECONDS = 10
# From having nothing left to do (an idle container's SIGTERM, the last byte of
# a request in flight) to uWSGI's exit: about 2 s on a quiet 2-core machine,
# while a stop that waits on anything is killed at the grace. Half the grace
# tells the two apart with room for a loaded machine, where 3 s flaked.
EXIT_BUDGET_SECONDS = STOP_GRACE_SECONDS / 2


def stop(name):
    """`docker stop` with STOP_GRACE_SECONDS; returns when the engine sent SIGTERM and when the container exited.

    The engine's own timestamps (seconds since the epoch), so that the docker
    CLI's round trips, slow on a loaded machine, are not counted as uWSGI's.
    """
    since = time.time()
    docker("stop", "--time", str(STOP_GRACE_SECONDS), name)
    window = ["--since", f"{since:.3f}", "--until", f"{time.time():.3f}", "--filter", f"container={name}"]
    kills = docker("events", *window, "--filter", "event=kill", "--format", "{{.TimeNano}}").stdout.split()
    exited = datetime.fromisoformat(container_state(name, "FinishedAt")).timestamp()
    return int(kills[0]) / 1e9, exited


def test_health_check_reports_healthy(run_prod, migrated):
    name, _ = run_prod()

    deadline = time.monotonic() + 30
    while (status := container_state(name, "Health.Status")) != "healthy":
        assert status == "starting" and time.monotonic() < deadline, status
        time.sleep(0.5)


# How long the body of the request in flight takes to arrive, in 20 pieces: the
# stop must begin before its end. Half the request's database deadline, which
# starts with the worker's reading and would answer a longer request 503.
DATABASE_DEADLINE = int(re.search(r"^DATABASE_DEADLINE = (\d+)$", SETTINGS, re.MULTILINE)[1])
TRICKLE_SECONDS = DATABASE_DEADLINE / 2
# The loopback port the HTTP router hands requests to the workers on.
UWSGI_SOCKET = re.search(r"^socket = 127\.0\.0\.1:(\d+)$", (REPO / "config" / "uwsgi.ini").read_text(), re.MULTILINE)
WORKER_PORT = int(UWSGI_SOCKET[1])


def trickled_post(url, token, record):
    """POSTs a JSON object whose body arrives over TRICKLE_SECONDS; returns (status, body, when it was all sent)."""
    body = json.dumps(record).encode()
    size = len(body) // 20 + 1
    sent = []

    def pieces():
        for start in range(0, len(body), size):
            time.sleep(TRICKLE_SECONDS / 20)
            yield body[start : start + size]
        sent.append(time.time())  # http.client asks for more only once the last piece is sent

    host, port = url.removeprefix("http://").split(":")
    connection = HTTPConnection(host, int(port), timeout=15)
    headers = {"Content-Type": "application/json", "Content-Length": str(len(body))}
    connection.request("POST", "/harness/records/", pieces(), {**headers, "Authorization": f"Bearer {token}"})
    response = connection.getresponse()
    answer = response.status, json.loads(response.read()), sent[0]
    connection.close()
    return answer


def a_worker_has_a_request(name):
    """Whether a worker has accepted a connection from the router: one is established on WORKER_PORT, none queued."""
    on_port = [(state, queued) for port, state, queued in tcp_sockets(name) if port == WORKER_PORT]
    established = any(state == "01" for state, _ in on_port)
    return established and [queued for state, queued in on_port if state == "0A"] == [0]


def test_stop_lets_a_request_whose_body_is_still_arriving_finish(run_harness, token):
    # No health checks: their requests would reach a worker too.
    name, url = run_harness(extra_args=["--no-healthcheck"])
    wait_for_http(f"{url}/healthz")
    record = {"in flight": secrets.token_hex(4), "padding": "x" * 4000}
    with ThreadPoolExecutor(max_workers=1) as pool:
        client = pool.submit(trickled_post, url, token, record)
        deadline = time.monotonic() + TRICKLE_SECONDS
        while not a_worker_has_a_request(name):
            assert time.monotonic() < deadline, f"no worker had the request within {TRICKLE_SECONDS} s"
            time.sleep(0.05)

        sigterm, exited = stop(name)
        status, body, body_sent = client.result(timeout=15)

    assert sigterm < body_sent, "the body had all been sent before the stop began"
    assert (status, body.get("received")) == (201, record), body
    assert exited - body_sent < EXIT_BUDGET_SECONDS, f"{exited - body_sent:.1f} s from the request's end to exit"
    assert container_state(name, "ExitCode") == "0"
    _, other = run_harness()
    wait_for_http(f"{other}/healthz")
    assert http("GET", f"{other}/harness/records/{body['id']}/", token=token)[0] == 200


def test_an_idle_container_stops_quickly_with_exit_code_0(run_prod, migrated):
    name, url = run_prod()
    wait_for_http(f"{url}/healthz")

    sigterm, exited = stop(name)

    assert exited - sigterm < EXIT_BUDGET_SECONDS, f"{exited - sigterm:.1f} s from SIGTERM to exit"
    assert container_state(name, "ExitCode") == "0"


def test_serves_read_only_without_capabilities_or_privilege_escalation(run_harness, token):
    locked_down = ["--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL", "--security-opt", "no-new-privileges"]
    name, url = run_harness(extra_args=locked_down)
    wait_for_http(f"{url}/healthz")

    status, _, record = http("POST", f"{url}/harness/records/", {"from": "a read-only container"}, token=token)

    assert status == 201, record
    assert "ro" in root_mount_options(lambda *command: docker("exec", name, *command)), "the root is mounted writable"
    assert http("GET", f"{url}/harness/records/{record['id']}/", token=token)[0] == 200


def test_accepts_8_kb_of_request_headers(run_harness, token):
    _, url = run_harness()
    wait_for_http(f"{url}/healthz")
    request = f"GET /harness/records/ HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n"
    request += f"Cookie: {'c' * 8192}\r\nConnection: close\r\n\r\n"
    host, port = url.removeprefix("http://").split(":")

    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request.encode())
        response = b"".join(iter(lambda: sock.recv(65536), b""))

    assert response.startswith(b"HTTP/1.1 200")


@pytest.mark.parametrize(("trusted", "hsts_expected"), [("false", False), ("true", True)])
def test_x_forwarded_proto_counts_only_from_a_trusted_proxy(run_harness, token, trusted, hsts_expected):
    # Django sends HSTS only on requests it believes came over HTTPS.
    _, url = run_harness(extra_args=["-e", f"DJANGO_TRUST_X_FORWARDED_PROTO={trusted}"])
    wait_for_http(f"{url}/healthz")
    host, port = url.removeprefix("http://").split(":")
    request = f"GET /harness/records/ HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n"
    request += "X-Forwarded-Proto: https\r\nConnection: close\r\n\r\n"

    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request.encode())
        response = b"".join(iter(lambda: sock.recv(65536), b"")).decode()

    assert response.startswith("HTTP/1.1 200")
    assert ("Strict-Transport-Security" in response) == hsts_expected


# What Django's middleware adds to every response of a view, with this
# template's settings: HSTS for a year (SECURE_HSTS_SECONDS), and the defaults
# of the others, which a setting or a middleware removed would lose.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Strict-Transport-Security": f"max-age={60 * 60 * 24 * 365}",
}


def test_a_response_through_uwsgi_carries_the_security_headers(run_harness, token):
    # As production runs it: behind a proxy that says the request came over HTTPS, without which no HSTS.
    _, url = run_harness(extra_args=["-e", "DJANGO_TRUST_X_FORWARDED_PROTO=true"])
    wait_for_http(f"{url}/healthz")

    status, headers, _ = http("GET", f"{url}/harness/records/", token=token, headers={"X-Forwarded-Proto": "https"})

    assert status == 200
    assert {name: headers[name] for name in SECURITY_HEADERS} == SECURITY_HEADERS, dict(headers)


def test_start_up_fails_fast_naming_a_missing_setting(prod_image):
    result = docker("run", "--rm", "-e", "DATABASE_URL=postgres://u:p@db/x", prod_image, check=False, timeout=60)

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stdout + result.stderr


def test_migrations_are_not_run_at_start_up(prod_image, network, database, prod_env):
    name = f"fresh_{secrets.token_hex(4)}"
    database.query(f"CREATE DATABASE {name}")
    env = {**prod_env, "DATABASE_URL": f"{database.url.rsplit('/', 1)[0]}/{name}"}
    docker("run", "--detach", "--name", name, "--network", network, *env_args(env), prod_image)
    try:
        deadline = time.monotonic() + 30
        while container_state(name, "Health.Status") != "healthy":
            assert time.monotonic() < deadline
            time.sleep(0.5)
        tables = database.pg("psql", f"--username={database.user}", f"--dbname={name}", "-tAc", r"\dt").stdout
        assert tables.strip() == ""
    finally:
        docker("rm", "--force", name, check=False)


def test_check_deploy_passes_with_production_settings(prod_image, prod_env):
    check = ["python", "manage.py", "check", "--deploy", "--fail-level", "WARNING"]

    result = docker("run", "--rm", *env_args(prod_env), prod_image, *check, check=False)

    assert result.returncode == 0, result.stdout + result.stderr


def test_worker_processes_and_threads_come_from_the_environment(run_prod, migrated):
    name, url = run_prod(extra_args=["-e", "UWSGI_PROCESSES=3", "-e", "UWSGI_THREADS=2"])
    # Its workers' lines come before the last start-up lines; /healthz can answer before the log has them.
    wait_until_started(name, url)

    workers = re.findall(r"spawned uWSGI worker \d+ \(pid: \d+, cores: (\d+)\)", docker("logs", name).stdout)

    assert workers == ["2", "2", "2"]


def test_postgresql_cancels_a_statement_that_runs_past_statement_timeout(one_off, migrated):
    # The timeout as config/settings.py hands it to PostgreSQL; the query runs a second past it.
    seconds = int(re.search(r"statement_timeout=(\d+)s", SETTINGS)[1])
    query = f"from django.db import connection; connection.cursor().execute('SELECT pg_sleep({seconds + 1})')"

    result = one_off("python", "manage.py", "shell", "-c", query, check=False)

    assert result.returncode != 0
    assert "canceling statement due to statement timeout" in result.stderr
