"""What the prod container logs: nothing while idle, a line per request, tracebacks, and JSON on request."""

import json
import re
import secrets
import time

import pytest
from docker_helpers import env_args, http, logs_once, logs_since, raw_request, wait_until_started

IDLE_SECONDS = 20
# config/uwsgi.ini's log-format: client "METHOD path protocol" status bytes duration.
REQUEST_LINE = re.compile(r'^\S+ "(?P<method>[A-Z]+) (?P<path>\S+) HTTP/1\.[01]" (?P<status>\d{3}) \d+ \d+ms$')
# uWSGI's own messages with LOG_FORMAT=json: "2026-11-29T20:29:42+0000 - spawned uWSGI worker 1 ...".
UWSGI_MESSAGE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} - ")
# Well-formed, so that the token middleware looks it up, in a table that does not exist yet.
UNMIGRATED_TOKEN = secrets.token_urlsafe(32)


@pytest.fixture(scope="module")
def unmigrated_env(database, prod_env):
    """Settings for a database no migration has run on, where a request with a token is a server error."""
    name = f"unmigrated_{secrets.token_hex(4)}"
    database.query(f"CREATE DATABASE {name}")
    return {**prod_env, "DATABASE_URL": f"{database.url.rsplit('/', 1)[0]}/{name}"}


def run_unmigrated(run_harness, unmigrated_env, *extra_args):
    name, url = run_harness(extra_args=[*env_args(unmigrated_env), *extra_args])
    wait_until_started(name, url)
    return name, url


def api_requests(lines):
    """The request lines among `lines`, but the health checks', as dicts of method, path and status."""
    requests = [match.groupdict() for match in map(REQUEST_LINE.match, lines) if match]
    return [request for request in requests if request["path"] != "/healthz"]


def json_api_requests(lines):
    """The same with LOG_FORMAT=json, as the JSON records."""
    records = [json.loads(line) for line in lines if not UWSGI_MESSAGE.match(line)]
    return [record for record in records if record["logger"] == "uwsgi.request" and record["path"] != "/healthz"]


def test_an_idle_container_logs_nothing_but_request_lines(run_prod, migrated):
    name, url = run_prod()
    wait_until_started(name, url)
    since = time.time()

    time.sleep(IDLE_SECONDS)

    lines = logs_since(name, since)
    # The image's health check may ask /healthz meanwhile: a request line, like any other.
    assert all(REQUEST_LINE.match(line) for line in lines), lines
    assert "lseek" not in "\n".join(logs_since(name, 0))


def test_each_request_is_one_line_and_a_server_error_keeps_its_traceback(run_harness, unmigrated_env):
    name, url = run_unmigrated(run_harness, unmigrated_env)
    since = time.time()

    assert http("GET", f"{url}/no/such/page")[0] == 404
    # The token's lookup meets the missing table; the query string is logged with the path.
    assert http("GET", f"{url}/harness/records/?page=2", token=UNMIGRATED_TOKEN)[0] == 500

    lines = logs_once(name, lambda lines: len(api_requests(lines)) == 2, since)
    requests = api_requests(lines)
    assert requests == [
        {"method": "GET", "path": "/no/such/page", "status": "404"},
        {"method": "GET", "path": "/harness/records/?page=2", "status": "500"},
    ]
    log = "\n".join(lines)
    assert "ERROR django.request: Internal Server Error: /harness/records/" in log
    assert "Traceback (most recent call last):" in log and 'relation "api_token" does not exist' in log


def test_log_format_json_makes_every_line_a_json_object(run_harness, unmigrated_env):
    name, url = run_unmigrated(run_harness, unmigrated_env, "-e", "LOG_FORMAT=json")
    since = time.time()
    awkward_path = '/quote"back\\slash\x01\xff/' + "long" * 100  # raw bytes, as a client may send them

    assert http("GET", f"{url}/readyz")[0] == 200
    assert http("GET", f"{url}/harness/records/", token=UNMIGRATED_TOKEN)[0] == 500
    raw_request(
        url, b"GET " + awkward_path.encode("latin-1") + b" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )

    lines = logs_once(name, lambda lines: len(json_api_requests(lines)) == 3, since)
    # uWSGI's own messages (the last of its start-up among them) stay text, dated; every other line is JSON.
    records = [json.loads(line) for line in lines if not UWSGI_MESSAGE.match(line)]
    requests = json_api_requests(lines)
    assert [(r["method"], r["path"][:20], r["status"]) for r in requests] == [
        ("GET", "/readyz", 200),
        ("GET", "/harness/records/", 500),
        ("GET", awkward_path[:20], 404),
    ]
    assert all(isinstance(r["duration_ms"], int) and r["time"] and r["client"] for r in requests)
    assert requests[2]["path"].endswith("...")  # cut to what uWSGI keeps, still valid JSON
    errors = [record for record in records if record["logger"] == "django.request"]
    assert [(e["level"], e["message"]) for e in errors] == [("ERROR", "Internal Server Error: /harness/records/")]
    assert errors[0]["exception"].startswith("Traceback (most recent call last):")
