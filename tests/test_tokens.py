"""The management commands that make, revoke and list tokens, and what the database keeps of a token.

The exit statuses, as a shell sees them, are tested against the prod image in tests/host/test_tokens_in_container.py.
"""

import base64
import hashlib
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django_helpers import bearer, create_token

from app.api.models import Token

pytestmark = [pytest.mark.django_db, pytest.mark.urls("harness.urls")]


def run(*args):
    """A management command's standard output and error."""
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command(*args, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


def test_createtoken_prints_the_token_alone_on_its_standard_output_once(anonymous):
    stdout, stderr = run("createtoken", "ci", "--scope", "read")

    (token,) = stdout.splitlines()
    assert len(base64.urlsafe_b64decode(token + "=")) == 32
    assert "'ci'" in stderr and "shown this once" in stderr and token not in stderr
    assert token[:6] in stderr  # what listtokens shows of it
    assert anonymous.get("/harness/records/", headers=bearer(token)).status_code == 200


def test_every_token_is_new():
    assert len({create_token("read") for _ in range(20)}) == 20


def test_a_name_in_use_is_refused_and_the_first_token_keeps_working(anonymous):
    first = create_token("read", name="ci")

    with pytest.raises(CommandError, match="A token named 'ci' exists already"):
        run("createtoken", "ci", "--scope", "write")

    assert list(Token.objects.values_list("name", "scope")) == [("ci", "read")]
    assert anonymous.get("/harness/records/", headers=bearer(first)).status_code == 200


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ci", "--scope", "admin"], "invalid choice: 'admin'"),
        (["ci", "--scope", "WRITE"], "invalid choice: 'WRITE'"),
        (["ci"], "the following arguments are required: --scope"),
        (["two words", "--scope", "read"], "is not a token name"),
        (["", "--scope", "read"], "is not a token name"),
        (["x" * 65, "--scope", "read"], "is not a token name"),
    ],
)
def test_a_bad_scope_or_name_is_an_argument_error_and_makes_nothing(args, message):
    # Called in-process, an argument error is a CommandError; from a shell, argparse's exit status 2.
    with pytest.raises(CommandError, match=message):
        run("createtoken", *args)

    assert not Token.objects.exists()


def test_revoketoken_removes_only_that_token(anonymous):
    kept = create_token("read", name="kept")
    create_token("read", name="revoked")

    stdout, _ = run("revoketoken", "revoked")

    assert "Revoked the token 'revoked'" in stdout
    assert list(Token.objects.values_list("name", flat=True)) == ["kept"]
    assert anonymous.get("/harness/records/", headers=bearer(kept)).status_code == 200


def test_revoking_an_unknown_name_fails_saying_so():
    with pytest.raises(CommandError, match="There is no token named 'nobody'"):
        run("revoketoken", "nobody")


def test_listtokens_shows_names_scopes_and_creation_but_never_a_token():
    tokens = [create_token("write", name="ci"), create_token("read", name="dashboard")]

    lines = run("listtokens")[0].splitlines()

    assert lines[0].split() == ["name", "scope", "created", "(UTC)", "starts", "with"]
    for line, token, (name, scope) in zip(lines[1:], tokens, [("ci", "write"), ("dashboard", "read")], strict=True):
        assert line.split()[:2] == [name, scope]
        assert line.endswith(token[:6]) and token not in line
    created = Token.objects.get(name="ci").created_at
    assert f"{created:%Y-%m-%d %H:%M:%S}" in lines[1]


def test_listtokens_without_tokens_says_how_to_make_one():
    assert "createtoken" in run("listtokens")[0]


def test_the_token_table_holds_the_tokens_digest_and_never_the_token():
    token = create_token("write", name="ci")

    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM api_token")
        columns = [column[0] for column in cursor.description]
        (row,) = cursor.fetchall()

    stored = dict(zip(columns, row, strict=True))
    assert stored["digest"] == hashlib.sha256(token.encode()).hexdigest()
    assert stored["prefix"] == token[:6]
    assert not [name for name, value in stored.items() if token in str(value)]
