"""The prod container while its PostgreSQL accepts connections but never answers.

`docker pause` freezes the server's processes; the kernel still completes TCP
handshakes, so connecting "works" and every query waits forever. In a module
of its own: its database is paused, so no other test may share it.
"""

import secrets
import time
from concurrent.futures import ThreadPoolExecutor

from docker_helpers import docker, http, wait_for_http, wait_until_ready

# The promises, in seconds: what a client gets from each while the database hangs.
API_WITHIN = 5
READYZ_WITHIN = 3
HEALTHZ_WITHIN = 1


def timed(method, url, token, body=None):
    began = time.monotonic()
    status, headers, body = http(method, url, body, timeout=30, token=token)
    return status, headers, body, time.monotonic() - began


def test_a_hung_database_is_503_in_seconds_while_liveness_answers_at_once(run_prod, token, database):
    name, url = run_prod()
    wait_for_http(f"{url}/healthz")
    status, _, note = http("POST", f"{url}/api/notes/", {"title": "before the hang"}, token=token)
    assert status == 201, note
    for _ in range(8):  # several workers now hold an open connection (and the token), others will connect anew
        assert http("GET", f"{url}/api/notes/", token=token)[0] == 200
    # A well-formed token no worker has seen: its lookup is what waits for the database.
    unseen = secrets.token_urlsafe(32)

    docker("pause", database.name)
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            # Five API requests and a readiness probe, all stuck at once: six of the eight workers.
            stuck = [
                pool.submit(timed, "GET", f"{url}/api/notes/", token),
                pool.submit(timed, "GET", f"{url}/api/notes/{note['id']}/", token),
                pool.submit(timed, "POST", f"{url}/api/notes/", token, {"title": "during the hang"}),
                pool.submit(
                    timed, "PATCH", f"{url}/api/notes/{note['id']}/", token, {"title": "changed during the hang"}
                ),
                pool.submit(timed, "GET", f"{url}/api/notes/", unseen),
            ]
            readiness = pool.submit(timed, "GET", f"{url}/readyz", None)
            time.sleep(0.5)
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
    for _ in range(8):
        assert http("GET", f"{url}/api/notes/{note['id']}/", token=token)[2] == note
    assert http("POST", f"{url}/api/notes/", {"title": "after the hang"}, token=token)[0] == 201
    logs = docker("logs", name)
    assert "HARAKIRI" not in logs.stdout + logs.stderr
    assert docker("inspect", "--format", "{{.RestartCount}}", name).stdout.strip() == "0"
    # A write the server received before it hung is committed once it resumes, though the client got a 503.
    titles = [row[0] for row in database.query("SELECT title FROM notes_note ORDER BY id")]
    assert [title for title in titles if title != "during the hang"] == ["before the hang", "after the hang"]
