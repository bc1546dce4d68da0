"""API tokens against the prod image: through uWSGI, made and revoked with its commands, in its logs and database.

tests/test_auth.py covers every answer in-process; this module checks what
only the running container shows.
"""

import secrets
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from docker_helpers import create_token, harness_records, http, logs_once, wait_for_http

CHALLENGE = 'Bearer realm="api"'
# The promise for a revoked token (docs/api.md).
REVOKED_WITHIN_SECONDS = 5


def test_through_uwsgi_no_token_is_a_401_and_a_write_with_one_is_stored(run_harness, token, database):
    _, url = run_harness()
    wait_for_http(f"{url}/healthz")
    before = harness_records(database)

    status, headers, problem = http("POST", f"{url}/harness/records/", {"sent": "without a token"})
    assert (status, headers["WWW-Authenticate"], problem["status"]) == (401, CHALLENGE, 401)
    assert headers["Content-Type"] == "application/problem+json"

    status, _, record = http("POST", f"{url}/harness/records/", {"sent": "with a token"}, token=token)
    assert (status, record["received"]) == (201, {"sent": "with a token"}), record
    # One row, the second POST's: the refused one wrote nothing.
    assert harness_records(database) - before == {record["id"]}


def test_a_read_token_cannot_write_through_uwsgi(run_harness, one_off, migrated):
    _, url = run_harness()
    wait_for_http(f"{url}/healthz")
    read = create_token(one_off, scope="read")

    assert http("GET", f"{url}/harness/records/", token=read)[0] == 200
    status, headers, _ = http("POST", f"{url}/harness/records/", {"sent": "with a read token"}, token=read)
    assert (status, headers["WWW-Authenticate"]) == (403, f'{CHALLENGE}, error="insufficient_scope", scope="write"')


def test_an_unauthenticated_3_mb_post_is_refused_before_its_body_is_read(run_harness, migrated):
    _, url = run_harness()
    wait_for_http(f"{url}/healthz")
    head = "POST /harness/records/ HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
    head += f"Content-Length: {3 * 1024 * 1024}\r\nConnection: close\r\n\r\n"

    # The body is declared, never sent: had anything waited for it, no answer would come before
    # uWSGI's socket-timeout (4 s). The connection stays open meanwhile, so only the answer is read.
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=2) as sock:
        sock.sendall(head.encode())
        answer = sock.recv(65536)

    assert answer.startswith(b"HTTP/1.1 401 Unauthorized\r\n"), answer[:200]


def test_a_revoked_token_is_refused_by_every_worker_within_5_seconds(run_harness, one_off, migrated):
    _, url = run_harness()
    wait_for_http(f"{url}/healthz")
    name = f"leaving-{secrets.token_hex(4)}"
    leaving = create_token(one_off, scope="read", name=name)

    def statuses():
        # Twice as many requests at once as uWSGI has workers, so that each worker answers some.
        with ThreadPoolExecutor(max_workers=16) as pool:
            return list(pool.map(lambda _: http("GET", f"{url}/harness/records/", token=leaving)[0], range(16)))

    assert statuses() == [200] * 16  # now remembered by the workers that answered
    one_off("python", "manage.py", "revoketoken", name)
    revoked = time.monotonic()

    while http("GET", f"{url}/harness/records/", token=leaving)[0] == 200:
        assert time.monotonic() - revoked < REVOKED_WITHIN_SECONDS, "a revoked token is still accepted"
        time.sleep(0.1)
    time.sleep(max(0, revoked + REVOKED_WITHIN_SECONDS - time.monotonic()))
    assert statuses() == [401] * 16


def test_the_commands_exit_statuses_and_messages(one_off, migrated):
    name = f"once-{secrets.token_hex(4)}"
    made = create_token(one_off, name=name)

    duplicate = one_off("python", "manage.py", "createtoken", name, "--scope", "read", check=False)
    bad_scope = one_off("python", "manage.py", "createtoken", "other", "--scope", "admin", check=False)
    unknown = one_off("python", "manage.py", "revoketoken", "nobody", check=False)
    listed = one_off("python", "manage.py", "listtokens").stdout

    assert (duplicate.returncode, duplicate.stdout) == (1, "")
    assert f"A token named '{name}' exists already" in duplicate.stderr
    assert bad_scope.returncode == 2 and "invalid choice: 'admin'" in bad_scope.stderr
    assert unknown.returncode == 1 and "There is no token named 'nobody'" in unknown.stderr
    assert name in listed and made[:6] in listed and made not in listed


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_no_token_is_in_the_logs_or_in_a_dump_of_the_database(run_harness, one_off, migrated, database, log_format):
    verbose = ["-e", f"LOG_FORMAT={log_format}", "-e", "DJANGO_LOG_LEVEL=DEBUG"]
    name, url = run_harness(extra_args=verbose)
    wait_for_http(f"{url}/healthz")
    revoked_name = f"revoked-{secrets.token_hex(4)}"
    write, read = create_token(one_off), create_token(one_off, scope="read")
    revoked = create_token(one_off, name=revoked_name)
    one_off("python", "manage.py", "revoketoken", revoked_name)

    status, _, record = http("POST", f"{url}/harness/records/", {"sent": "logged"}, token=write)
    assert status == 201
    assert http("GET", f"{url}/harness/records/{record['id']}/", token=read)[0] == 200
    assert http("DELETE", f"{url}/harness/records/{record['id']}/", token=read)[0] == 403
    assert http("DELETE", f"{url}/harness/records/{record['id']}/", token=revoked)[0] == 401
    assert http("GET", f"{url}/harness/records/", headers={"Authorization": f"Token {write}"})[0] == 401
    # Once the five requests are logged, with whatever the debug level adds about them.
    log = "\n".join(logs_once(name, lambda lines: sum("/harness/records/" in line for line in lines) >= 5))
    dump = database.pg("pg_dump", f"--username={database.user}", f"--dbname={database.dbname}").stdout
    for token in [write, read, revoked]:
        assert token not in log
        assert token not in dump
    assert "api_token" in dump  # the tokens' table is in the dump, with what it keeps of them
