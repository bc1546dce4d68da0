"""Over TLS, as most managed databases require, the kept-open connection is reused and replaced as over plain TCP.

app/database/postgresql decides whether a kept connection is usable by polling its
socket for unread bytes instead of sending `SELECT 1`. Under TLS those bytes
are encrypted records, so this checks both ways: an idle TLS connection must
read as usable (or every request would reconnect), and one the server closed
as unusable (or the next request would fail).

In a module of its own: its database serves TLS and is restarted.
"""

import pytest
from docker_helpers import Postgres, http, wait_for_http


@pytest.fixture(scope="module")
def database(network):
    postgres = Postgres(network, tls=True)
    yield postgres
    postgres.remove()


def test_a_tls_connection_is_reused_between_requests_and_replaced_after_a_restart(run_harness, token, database):
    # One worker, so that every request uses the one connection it keeps open.
    name, url = run_harness(extra_args=["-e", "UWSGI_PROCESSES=1"])
    wait_for_http(f"{url}/healthz")
    assert http("GET", f"{url}/harness/records/", token=token)[0] == 200
    first = app_sessions(database)
    assert [encrypted for _, encrypted in first] == ["t"], "the app must reach PostgreSQL over TLS"

    for _ in range(3):
        assert http("GET", f"{url}/harness/records/", token=token)[0] == 200
    assert app_sessions(database) == first, "an idle TLS connection must be reused, not replaced"

    database.stop()
    database.start()

    for _ in range(3):
        status, _, body = http("GET", f"{url}/harness/records/", token=token)
        assert status == 200, body
    assert [encrypted for _, encrypted in app_sessions(database)] == ["t"]


def app_sessions(database):
    """The app's sessions: [server process id, whether TLS] for each."""
    sessions = (
        "SELECT pid, ssl FROM pg_stat_activity JOIN pg_stat_ssl USING (pid)"
        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    return database.query(sessions)
