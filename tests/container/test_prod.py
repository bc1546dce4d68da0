"""The prod image serving the API with uWSGI against a real PostgreSQL."""

import threading
from concurrent.futures import ThreadPoolExecutor

from conftest import docker, http, wait_for_http


def test_notes_persist_across_a_restart_and_can_be_changed(run_prod, migrated):
    name, url = run_prod()
    assert wait_for_http(f"{url}/healthz")[0] == 200

    status, headers, note = http("POST", f"{url}/api/notes/", {"title": "Survives", "body": "a restart"})
    assert status == 201, note

    docker("restart", name)
    wait_for_http(f"{url}/healthz")

    assert http("GET", f"{url}/api/notes/{note['id']}/")[2] == note
    status, _, patched = http("PATCH", f"{url}/api/notes/{note['id']}/", {"body": "and a patch"})
    assert (status, patched["title"], patched["body"]) == (200, "Survives", "and a patch")
    assert http("DELETE", f"{url}/api/notes/{note['id']}/")[0] == 204
    assert http("GET", f"{url}/api/notes/{note['id']}/")[0] == 404


def test_served_by_uwsgi_and_ready_with_the_database(run_prod, migrated):
    name, url = run_prod()
    wait_for_http(f"{url}/healthz")

    status, _, body = http("GET", f"{url}/readyz")
    assert (status, body) == (200, {"status": "ok"})
    # uWSGI's and Django's logs both go to stdout.
    assert "spawned uWSGI worker" in docker("logs", name).stdout


def test_errors_are_json(run_prod, migrated):
    _, url = run_prod()
    wait_for_http(f"{url}/healthz")

    status, headers, body = http("GET", f"{url}/no/such/page")

    assert status == 404
    assert headers["Content-Type"] == "application/problem+json"
    assert body["status"] == 404


def test_concurrent_posts_are_each_written_whole_or_not_at_all(run_prod, migrated, database):
    _, url = run_prod()
    wait_for_http(f"{url}/healthz")
    notes = [{"title": f"concurrent {number}", "body": f"body of note {number} " * 50} for number in range(50)]
    all_at_once = threading.Barrier(len(notes), timeout=30)

    def post(note):
        all_at_once.wait()
        return http("POST", f"{url}/api/notes/", note, timeout=60)

    with ThreadPoolExecutor(max_workers=len(notes)) as pool:
        answers = list(pool.map(post, notes))

    created = {}
    for sent, (status, headers, body) in zip(notes, answers, strict=True):
        if status == 201:
            assert {name: body[name] for name in sent} == sent
            created[body["id"]] = sent
        else:  # a clean failure: the error shape, and a status that says retry
            assert (status, headers["Content-Type"]) == (503, "application/problem+json"), body
    assert created, "no POST succeeded"
    stored = database.query("SELECT id, title, body FROM notes_note WHERE title LIKE 'concurrent %'")
    assert {int(note_id): {"title": title, "body": body} for note_id, title, body in stored} == created
