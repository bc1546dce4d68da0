"""The prod container as a careful operator runs it, against a real PostgreSQL: serving, graceful, locked down."""

import json
import re
import secrets
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from docker_helpers import (
    REPO,
    docker,
    env_args,
    http,
    root_mount_options,
    wait_for_http,
    wait_until_ready,
    wait_until_started,
)


def test_notes_persist_across_a_restart_and_can_be_changed(run_prod, token, database):
    name, url = run_prod()
    assert wait_for_http(f"{url}/healthz")[0] == 200

    status, headers, note = http("POST", f"{url}/api/notes/", {"title": "Survives", "body": "a restart"}, token=token)
    assert status == 201, note

    # Both: the app's restart proves nothing was kept only in a worker; PostgreSQL's,
    # stopped as a crash would stop it, that the 201 came after a durable commit.
    docker("restart", name)
    database.stop(mode="immediate")
    database.start()
    wait_for_http(f"{url}/healthz")
    wait_until_ready(url)

    assert http("GET", f"{url}/api/notes/{note['id']}/", token=token)[2] == note
    status, _, patched = http("PATCH", f"{url}/api/notes/{note['id']}/", {"body": "and a patch"}, token=token)
    assert (status, patched["title"], patched["body"]) == (200, "Survives", "and a patch")
    assert http("DELETE", f"{url}/api/notes/{note['id']}/", token=token)[0] == 204
    assert http("GET", f"{url}/api/notes/{note['id']}/", token=token)[0] == 404


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


def test_concurrent_posts_are_each_written_whole_or_not_at_all(run_prod, token, database):
    _, url = run_prod()
    wait_for_http(f"{url}/healthz")
    notes = [{"title": f"concurrent {number}", "body": f"body of note {number} " * 50} for number in range(50)]
    all_at_once = threading.Barrier(len(notes), timeout=30)

    def post(note):
        all_at_once.wait()
        return http("POST", f"{url}/api/notes/", note, timeout=60, token=token)

    with ThreadPoolExecutor(max_workers=len(notes)) as pool:
        answers = list(pool.map(post, notes))

    created = {}
    for sent, (status, headers, body) in zip(notes, answers, strict=True):
        assert status in {201, 503}, (status, body)
        if status == 201:
            assert {name: body[name] for name in sent} == sent
            created[body["id"]] = sent
        else:  # a clean failure: the error shape, and a status that says retry
            assert (headers["Content-Type"], body["status"]) == ("application/problem+json", 503), body
    # 50 requests fit uWSGI's queue (`listen`) many times over: a 503 is for a
    # database in trouble, not for this load, so nearly all must be written.
    assert len(created) >= MOST_OF_THE_CONCURRENT_POSTS * len(notes), f"{len(created)} of {len(notes)} written"
    stored = database.query("SELECT id, title, body FROM notes_note WHERE title LIKE 'concurrent %'")
    assert {int(note_id): {"title": title, "body": body} for note_id, title, body in stored} == created


def container_state(name, field):
    return docker("inspect", "--format", f"{{{{.State.{field}}}}}", name).stdout.strip()


def stop(name):
    """`docker stop` with its default 10 s grace period; returns the seconds it took."""
    started = time.monotonic()
    docker("stop", name)
    return time.monotonic() - started


def test_health_check_reports_healthy(run_prod, migrated):
    name, _ = run_prod()

    deadline = time.monotonic() + 30
    while (status := container_state(name, "Health.Status")) != "healthy":
        assert status == "starting" and time.monotonic() < deadline, status
        time.sleep(0.5)


def trickled_post(url, token, note, seconds, answer):
    """POSTs a note whose body arrives in pieces over `seconds`; puts the raw response in answer["raw"]."""
    host, port = url.removeprefix("http://").split(":")
    body = json.dumps(note).encode()
    pieces = [body[i : i + len(body) // 20 + 1] for i in range(0, len(body), len(body) // 20 + 1)]
    with socket.create_connection((host, int(port)), timeout=15) as sock:
        head = "POST /api/notes/ HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        head += f"Authorization: Bearer {token}\r\n"
        sock.sendall(f"{head}Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode())
        for piece in pieces:
            time.sleep(seconds / len(pieces))
            sock.sendall(piece)
        answer["raw"] = b"".join(iter(lambda: sock.recv(65536), b""))


def test_stop_lets_a_request_whose_body_is_still_arriving_finish(run_prod, token):
    name, url = run_prod()
    wait_for_http(f"{url}/healthz")
    title = f"in flight {secrets.token_hex(4)}"
    answer = {}
    note = {"title": title, "body": "x" * 4000}
    client = threading.Thread(target=trickled_post, args=(url, token, note, 2.0, answer))
    client.start()
    time.sleep(0.6)  # the request is under way, its body a third sent

    seconds = stop(name)
    client.join(timeout=15)

    status_line = answer.get("raw", b"").split(b"\r\n", 1)[0]
    assert status_line == b"HTTP/1.1 201 Created"
    assert container_state(name, "ExitCode") == "0"
    assert seconds < 8, f"docker stop took {seconds:.1f} s: uWSGI did not exit by itself"
    _, other = run_prod()
    wait_for_http(f"{other}/healthz")
    titles = [note["title"] for note in http("GET", f"{other}/api/notes/?limit=100", token=token)[2]["results"]]
    assert title in titles


def test_an_idle_container_stops_quickly_with_exit_code_0(run_prod, migrated):
    name, url = run_prod()
    wait_for_http(f"{url}/healthz")

    seconds = stop(name)

    assert container_state(name, "ExitCode") == "0"
    assert seconds < 3


def test_serves_read_only_without_capabilities_or_privilege_escalation(run_prod, token):
    locked_down = ["--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL", "--security-opt", "no-new-privileges"]
    name, url = run_prod(extra_args=locked_down)
    wait_for_http(f"{url}/healthz")

    status, _, note = http("POST", f"{url}/api/notes/", {"title": "written from a read-only container"}, token=token)

    assert status == 201
    assert "ro" in root_mount_options(lambda *command: docker("exec", name, *command)), "the root is mounted writable"
    assert http("GET", f"{url}/api/notes/{note['id']}/", token=token)[0] == 200


def test_accepts_8_kb_of_request_headers(run_prod, token):
    _, url = run_prod()
    wait_for_http(f"{url}/healthz")
    request = f"GET /api/notes/ HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n"
    request += f"Cookie: {'c' * 8192}\r\nConnection: close\r\n\r\n"
    host, port = url.removeprefix("http://").split(":")

    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request.encode())
        response = b"".join(iter(lambda: sock.recv(65536), b""))

    assert response.startswith(b"HTTP/1.1 200")


@pytest.mark.parametrize(("trusted", "hsts_expected"), [("false", False), ("true", True)])
def test_x_forwarded_proto_counts_only_from_a_trusted_proxy(run_prod, token, trusted, hsts_expected):
    # Django sends HSTS only on requests it believes came over HTTPS.
    _, url = run_prod(extra_args=["-e", f"DJANGO_TRUST_X_FORWARDED_PROTO={trusted}"])
    wait_for_http(f"{url}/healthz")
    host, port = url.removeprefix("http://").split(":")
    request = f"GET /api/notes/ HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n"
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


def test_a_response_through_uwsgi_carries_the_security_headers(run_prod, token):
    # As production runs it: behind a proxy that says the request came over HTTPS, without which no HSTS.
    _, url = run_prod(extra_args=["-e", "DJANGO_TRUST_X_FORWARDED_PROTO=true"])
    wait_for_http(f"{url}/healthz")

    status, headers, _ = http("GET", f"{url}/api/notes/", token=token, headers={"X-Forwarded-Proto": "https"})

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
        tables = database.pg("psql", "--username=notes", f"--dbname={name}", "-tAc", r"\dt").stdout
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
    seconds = int(re.search(r"statement_timeout=(\d+)s", (REPO / "config" / "settings.py").read_text())[1])
    query = f"from django.db import connection; connection.cursor().execute('SELECT pg_sleep({seconds + 1})')"

    result = one_off("python", "manage.py", "shell", "-c", query, check=False)

    assert result.returncode != 0
    assert "canceling statement due to statement timeout" in result.stderr
