"""The example's notes through the prod container's uWSGI, against a real PostgreSQL: written, read, changed, deleted.

The machinery's runtime (restarts, concurrent writes, the graceful stop) is
tested on the harness's routes in tests/host/test_runtime.py; this folder
goes with the example (`make remove-example`).
"""

from docker_helpers import http, wait_for_http


def test_a_note_is_created_read_changed_and_deleted_through_uwsgi(run_prod, token, database):
    _, url = run_prod()
    wait_for_http(f"{url}/healthz")

    status, headers, note = http("POST", f"{url}/api/notes/", {"title": "Through uWSGI", "body": "a note"}, token=token)
    assert status == 201, note
    location = url + headers["Location"]

    status, _, read = http("GET", location, token=token)
    assert (status, read) == (200, note)
    status, _, patched = http("PATCH", location, {"body": "and a patch"}, token=token)
    assert (status, patched["title"], patched["body"]) == (200, "Through uWSGI", "and a patch")
    # Stored as answered, field for field.
    stored = database.query(f"SELECT title, body FROM notes_note WHERE id = {int(note['id'])}")
    assert stored == [["Through uWSGI", "and a patch"]]
    assert http("DELETE", location, token=token)[0] == 204
    assert http("GET", location, token=token)[0] == 404
