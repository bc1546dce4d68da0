"""The prod container while its PostgreSQL is down, and after it is back.

In a module of its own: its database is stopped, so no other test may share it.
"""

import secrets
import time

from docker_helpers import DATABASE_UNAVAILABLE_WITHIN, docker, harness_records, http, wait_for_http, wait_until_ready

# Every kind of request that needs the database, each sent a few times so that
# more than one of uWSGI's workers (each with its own connection) answers.
REQUESTS = [
    ("GET", "/readyz", None),
    ("GET", "/harness/records/", None),
    ("POST", "/harness/records/", {"sent": "during the outage"}),
    ("GET", "/harness/records/{id}/", None),
    ("DELETE", "/harness/records/{id}/", None),
] * 3
# A refused connection fails at once, and any wait for the database ends at
# the request's deadline (settings.py), below the promise; a hang would end
# only when uWSGI's harakiri kills the worker at 8 s.
PROMPT_SECONDS, READYZ_PROMPT_SECONDS = DATABASE_UNAVAILABLE_WITHIN


def test_database_outage_is_503_and_the_service_recovers_by_itself(run_harness, token, database):
    name, url = run_harness()
    wait_for_http(f"{url}/healthz")
    status, _, record = http("POST", f"{url}/harness/records/", {"sent": "before the outage"}, token=token)
    assert status == 201, record
    started_at = container_started_at(name)

    database.stop()

    # Workers that served the POST remember its token; a well-formed one that none
    # has seen is looked up, and the lookup meets the stopped database.
    unseen = secrets.token_urlsafe(32)
    requests = [(*request, token) for request in REQUESTS] + [("GET", "/harness/records/", None, unseen)]
    for method, path, body, sent in requests:
        began = time.monotonic()
        status, headers, problem = http(method, url + path.format(id=record["id"]), body, timeout=30, token=sent)
        elapsed = time.monotonic() - began
        assert (status, headers["Content-Type"], problem["status"]) == (503, "application/problem+json", 503)
        assert "database" in problem["detail"]
        promised = READYZ_PROMPT_SECONDS if path == "/readyz" else PROMPT_SECONDS
        assert elapsed < promised, f"{method} {path} took {elapsed:.1f} s; docs/api.md promises {promised} s"
    status, _, body = http("GET", f"{url}/healthz")
    assert (status, body) == (200, {"status": "ok"}), "liveness must not depend on the database"

    database.start()

    wait_until_ready(url)
    # The record made before the outage is still there, for every worker, though DELETEs of it got 503s.
    for _ in range(8):
        status, _, found = http("GET", f"{url}/harness/records/{record['id']}/", token=token)
        assert (status, found) == (200, {"id": record["id"]})
    status, _, after = http("POST", f"{url}/harness/records/", {"sent": "after the outage"}, token=token)
    assert status == 201, after
    assert container_started_at(name) == started_at, "the container was restarted"
    assert harness_records(database) == {record["id"], after["id"]}, "a write during the outage was stored"


def container_started_at(name):
    return docker("inspect", "--format", "{{.State.StartedAt}} {{.RestartCount}}", name).stdout.strip()
