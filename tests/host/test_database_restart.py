"""A restarted database costs the service one failed health check, not a failed request.

In a module of its own: its database is stopped and started, so no other test may share it.
"""

from docker_helpers import http, wait_for_http


def test_a_database_restart_between_requests_fails_no_request(run_harness, token, database):
    # One worker, so that every request uses the one connection it keeps open.
    name, url = run_harness(extra_args=["-e", "UWSGI_PROCESSES=1", "-e", "UWSGI_THREADS=1"])
    wait_for_http(f"{url}/healthz")
    for _ in range(3):
        assert http("GET", f"{url}/harness/records/", token=token)[0] == 200
    assert app_connections(database) == 1, "the worker must keep its connection open between requests"

    database.stop()
    database.start()

    for _ in range(3):
        status, _, body = http("GET", f"{url}/harness/records/", token=token)
        assert status == 200, body


def app_connections(database):
    sessions = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    return int(database.query(sessions)[0][0])
