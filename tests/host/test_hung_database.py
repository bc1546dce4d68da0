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
    free_port,
    harness_records,
    http,
    tcp_sockets,
    uwsgi_option,
    wait_for_http,
    wait_until_ready,
)

API_WITHIN, READYZ_WITHIN = DATABASE_UNAVAILABLE_WITHIN
# Liveness never touches the database: at once, with a second for a loaded machine.
HEALTHZ_WITHIN = 1
# The workers config/uwsgi.ini gives the API's socket (socket 0) and the port of the probes' own worker.
API_WORKERS = len(uwsgi_option("map-socket").removeprefix("0:").split(","))
PROBE_PORT = int(uwsgi_option("http-socket").rpartition(":")[2])


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
    probe_port = free_port()
    name, url = run_harness(extra_args=["-p", f"127.0.0.1:{probe_port}:{PROBE_PORT}"])
    probes = f"http://127.0.0.1:{probe_port}"
    wait_for_http(f"{url}/healthz")
    status, _, record = http("POST", f"{url}/harness/records/", {"sent": "before the hang"}, token=token)
    assert status == 201, record
    records = f"{url}/harness/records/"
    for _ in range(8):  # every API worker now holds an open connection (and the token)
        assert http("GET", records, token=token)[0] == 200
    # A well-formed token no worker has seen: its lookup is what waits for the database.
    unseen = secrets.token_urlsafe(32)

    docker("pause", database.name)
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            # Three times as many API requests as there are API workers: each worker waits out a
            # deadline with one while the others wait their turn.
            stuck = [
                pool.submit(timed, "GET", records, token),
                pool.submit(timed, "GET", f"{records}{record['id']}/", token),
                pool.submit(timed, "POST", records, token, {"sent": "during the hang"}),
                pool.submit(timed, "DELETE", f"{records}{record['id']}/", token),
                pool.submit(timed, "GET", records, unseen),
                pool.submit(timed, "GET", f"{url}/readyz", None),
            ]
            wait_until_stuck(database, API_WORKERS)
            liveness = [timed("GET", f"{probes}/healthz", None) for _ in range(3)]
            answers = [future.result() for future in stuck]
        # Readiness with a worker free for it (and the database still paused).
        ready = timed("GET", f"{url}/readyz", None)
    finally:
        docker("unpause", database.name)

    for status, _, body, seconds in liveness:
        assert (status, body) == (200, {"status": "ok"})
        assert seconds < HEALTHZ_WITHIN, f"/healthz took {seconds:.1f} s while the database hung"
    for status, headers, body, _ in [*answers, ready]:
        assert (status, headers["Content-Type"], body["status"]) == (503, "application/problem+json", 503)
        assert "database" in body["detail"]
    # The n-th answer (from 0) waited for n // API_WORKERS requests ahead of it on its worker.
    for place, seconds in enumerate(sorted(answer[3] for answer in answers)):
        assert seconds < (place // API_WORKERS + 1) * API_WITHIN, [round(answer[3], 1) for answer in answers]
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
