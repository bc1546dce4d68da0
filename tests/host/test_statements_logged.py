"""The statements the machinery adds to a request in PostgreSQL, as the server logs them.

On the harness's GET /harness/records/, whose view sends one COUNT: whatever
else arrives is the machinery's (the connection's health check, the token's
lookup). Each test checks the answer too: a request refused after the same
statements would cost as much and prove nothing. The example's own page is
counted with the example's tests.
In a module of its own: it turns on statement logging for the database's user.
"""

import pytest
from docker_helpers import create_token, http, wait_for_http


@pytest.fixture
def served(run_harness, token, logged_statements):
    # One worker: the request below opens the one connection it keeps, and makes it remember the token (4 s).
    _, url = run_harness(extra_args=["-e", "UWSGI_PROCESSES=1"])
    assert wait_for_http(f"{url}/harness/records/", token=token)[0] == 200
    return url


def test_a_request_on_a_reused_connection_with_a_remembered_token_adds_no_statement(served, token, logged_statements):
    (status, _, body), statements = logged_statements(lambda: http("GET", f"{served}/harness/records/", token=token))

    assert status == 200, body
    assert len(statements) == 1, statements
    assert 'SELECT COUNT(*) AS "__count" FROM "api_token"' in statements[0], statements[0]


def test_a_token_the_worker_does_not_remember_costs_one_lookup_by_its_digest(served, logged_statements, one_off):
    other = create_token(one_off, scope="read")

    (status, _, body), statements = logged_statements(lambda: http("GET", f"{served}/harness/records/", token=other))

    assert status == 200, body
    assert len(statements) == 2, statements
    assert 'FROM "api_token" WHERE "api_token"."digest" =' in statements[0], statements[0]
