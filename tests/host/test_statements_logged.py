"""The statements one `GET /api/notes/` sends to PostgreSQL, as the server logs them.

Counted by the server, so that everything the request costs is seen: the
connection's health check and the token's lookup as well as the queries
Django's own tools count. Each test checks the answer too: a request refused
or failed after the same statements would cost as much, and prove nothing
about a page of notes.
In a module of its own: it turns on statement logging for the database's user.
"""

import secrets
import time

import pytest
from docker_helpers import create_token, docker, http, wait_for_http


@pytest.fixture(scope="module")
def logged_statements(database):
    """A function: what `send()` returns, and the statements PostgreSQL receives from the app while it runs."""
    database.query("ALTER ROLE CURRENT_USER SET log_statement = 'all'")  # for its sessions opened from now on

    def statements_during(send):
        start, end = f"start {secrets.token_hex(4)}", f"end {secrets.token_hex(4)}"
        database.query(f"SELECT '{start}'")
        answer = send()
        database.query(f"SELECT '{end}'")
        deadline = time.monotonic() + 10
        while end not in (log := docker("logs", database.name).stderr):
            assert time.monotonic() < deadline, "PostgreSQL did not log the end marker"
            time.sleep(0.1)
        between = log.split(start, 1)[1].split(end, 1)[0].splitlines()
        statements = [line.split("statement: ", 1)[1] for line in between if "statement: " in line]
        return answer, statements[:-1]  # the last is the marker query itself

    return statements_during


@pytest.fixture
def served(run_prod, token, logged_statements):
    # One worker, so that every request reuses the one connection it keeps open,
    # and remembers the token these requests looked up (for 4 s, app/api/auth.py).
    name, url = run_prod(extra_args=["-e", "UWSGI_PROCESSES=1"])
    wait_for_http(f"{url}/healthz")
    for number in range(3):
        assert http("POST", f"{url}/api/notes/", {"title": f"note {number}"}, token=token)[0] == 201
    return url


def test_a_page_of_notes_is_one_statement_on_a_reused_connection(served, token, logged_statements):
    (status, _, page), statements = logged_statements(lambda: http("GET", f"{served}/api/notes/?limit=2", token=token))

    assert status == 200, page
    assert len(page["results"]) == 2
    assert len(statements) == 1, statements
    assert "COUNT(" in statements[0] and "LIMIT 2" in statements[0]


def test_a_page_past_the_end_adds_one_count(served, token, logged_statements):
    past_the_end = f"{served}/api/notes/?offset=10"
    (status, _, page), statements = logged_statements(lambda: http("GET", past_the_end, token=token))

    assert status == 200, page
    assert page["results"] == []
    assert page["count"] > 0, "the count, asked for alone"
    assert len(statements) == 2, statements


def test_a_token_the_worker_does_not_remember_costs_one_lookup_by_its_digest(served, logged_statements, one_off):
    other = create_token(one_off, scope="read")

    (status, _, page), statements = logged_statements(lambda: http("GET", f"{served}/api/notes/?limit=2", token=other))

    assert status == 200, page
    assert len(page["results"]) == 2
    assert len(statements) == 2, statements
    assert 'FROM "api_token" WHERE "api_token"."digest" =' in statements[0], statements[0]
