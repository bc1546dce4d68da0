"""The prod image serving the API with uWSGI against a real PostgreSQL."""

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
