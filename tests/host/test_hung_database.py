"""The prod container while its PostgreSQL accepts connections but never answers.

`docker pause` freezes the server's processes; the kernel still completes TCP
handshakes, so connecting "works" and every query waits forever. In a module
of its own: its database is paused, so no other test may share it.
"""

import secrets
import time
from concurrent.futures import ThreadPoolExecutor

from docker_helpers import (
    DATABASE_UNAVAILABLE_WITHIN,
    docker,
    harness_records,
    http,
    tcp_sockets,
    wait_for_http,
    wait_until_ready,
)

API_WITHIN, READYZ_WITHIN = DATABASE_UNAVAILABLE_WITHIN
# Liveness never touches the database: at once, with a second for a loaded machine.
HEALTHZ_WITHIN = 1


def timed(method, url, token, body=None):
    began = time.monotonic()
    status, headers, body = http(method, url, body, timeout=30, token=token)
    return status, headers, body, time.monotonic() - began


def wait_until_stuck(database, queries):
    """Until `queries` connections hold bytes the paused PostgreSQL has not read: that many workers wait on it."""
    deadline = time.monotonic() + API_WITHIN
    while len([port for port, state, unread in tcp_sockets(database.name) if port == 5432 and unread]) < queries:
        assert time.monotonic() < deadline, f"fewer than {queries} workers reached the database"
        time.sleep(0.1)


def test_a_hung_database_is_503_in_seconds_while_liveness_answers_at_once(run_harness, token, database):
    name, url = run_harness()
    wait_for_http(f"{url}/healthz")
    status, _, record = http("POST", f"{url}/harness/records/", {"sent": "before the hang"}, token=token)
    assert status == 201, record
    records = f"{url}/harness/records/"
    for _ in range(8):  # several workers now hold an open connection (and the token), others will connect anew
        assert http("GET", records, token=token)[0] == 200
    # A well-formed token no worker has seen: its lookup is what waits for the database.
    unseen = secrets.token_urlsafe(32)

    docker("pause", database.name)
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            # Five API requests and a readiness probe, all stuck at once: six of the eight workers.
            stuck = [
                pool.submit(timed, "GET", records, token),
                pool.submit(timed, "GET", f"{records}{record['id']}/", token),
                pool.submit(timed, "POST", records, token, {"sent": "during the hang"}),
                pool.submit(timed, "DELETE", f"{records}{record['id']}/", token),
                pool.submit(timed, "GET", records, unseen),
            ]
            readiness = pool.submit(timed, "GET", f"{url}/readyz", None)
            wait_until_stuck(database, len(stuck) + 1)
            liveness = [timed("GET", f"{url}/healthz", None) for _ in range(3)]
            answers = [future.result() for future in stuck]
            ready = readiness.result()
    finally:
        docker("unpause", database.name)

    for status, _, body, seconds in liveness:
        assert (status, body) == (200, {"status": "ok"})
        assert seconds < HEALTHZ_WITHIN, f"/healthz took {seconds:.1f} s while the database hung"
    for status, headers, body, _ in [*answers, ready]:
        assert (status, headers["Content-Type"], body["status"]) == (503, "application/problem+json", 503)
        assert "database" in body["detail"]
    assert max(seconds for *_, seconds in answers) < API_WITHIN, [round(answer[3], 1) for answer in answers]
    assert ready[3] < READYZ_WITHIN, f"/readyz took {ready[3]:.1f} s"

    # Back by itself, in the same container, with nothing lost and no worker killed.
    wait_until_ready(url, timeout=15)
    # The DELETE's lookup of the record hung, so the DELETE itself was never sent: the record is there.
    for _ in range(8):
        status, _, found = http("GET", f"{records}{record['id']}/", token=token)
        assert (status, found) == (200, {"id": record["id"]})
    status, _, after = http("POST", records, {"sent": "after the hang"}, token=token)
    assert status == 201, after
    logs = docker("logs", name)
    assert "HARAKIRI" not in logs.stdout + logs.stderr
    assert docker("inspect", "--format", "{{.RestartCount}}", name).stdout.strip() == "0"
    # A write the server received before it hung is committed once it resumes, though the client got a 503:
    # besides the records before and after, at most the POST's during the hang.
    stored = harness_records(database)
    assert {record["id"], after["id"]} <= stored and len(stored - {record["id"], after["id"]}) <= 1, stored
