"""The statements one `GET /api/notes/` sends to PostgreSQL, as the server logs them.

A page of notes is one statement (the page and the count together), a page
past the end two; tests/notes/test_note_queries.py counts Django's queries for the same,
so a query added to the endpoint fails both. Each test checks the answer too.
What the machinery adds to a request is counted in tests/host/test_statements_logged.py.
In a module of its own: it turns on statement logging for the database's user.
"""

import pytest
from docker_helpers import http, wait_for_http


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
