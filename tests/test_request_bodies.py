"""The JSON bodies the machinery reads (read_json_object): what it accepts as sent, what it refuses, and when.

Through the harness's POST /harness/records/, which reads its body with
read_json_object before it writes a row, as a team's own view would: a refused
body must leave the table as it was.
"""

import json

import pytest
from django_helpers import assert_problem, token_table

from app.api.views import MAX_BODY_BYTES

pytestmark = [pytest.mark.django_db, pytest.mark.urls("harness.urls")]
RECORDS = "/harness/records/"


@pytest.fixture
def rejected_body(api):
    """Sends a body to the harness's POST; checks the answer's status, and that the table is as it was."""
    before = token_table()

    def send(body, status, **kwargs):
        problem = assert_problem(api.post(RECORDS, body, **kwargs), status)
        assert token_table() == before
        return problem

    return send


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"not json",
        b'{"key": "x"} trailing',
        b'["a", "list"]',
        b'"a string"',
        b"null",
        b"42",
        b'{"key": NaN}',
        b'{"key": Infinity}',
        b'{"key": -Infinity}',
        b'{"key": "first", "key": "second"}',
        b'{"key": ' + b"9" * 5000 + b"}",
        b'\xef\xbb\xbf{"key": "after a byte order mark"}',
        b'{"key": "\xff"}',
        b"[" * 30_000 + b"]" * 30_000,
    ],
    ids=[
        "empty",
        "not-json",
        "trailing-data",
        "list",
        "string",
        "null",
        "number",
        "nan",
        "infinity",
        "minus-infinity",
        "duplicate-key",
        "too-many-digits",
        "byte-order-mark",
        "invalid-utf8",
        "deep-nesting",
    ],
)
def test_malformed_body_is_400(rejected_body, raw):
    rejected_body(raw, 400)


@pytest.mark.parametrize("content_type", ["", "text/plain", "application/x-www-form-urlencoded", "application/xml"])
def test_body_not_sent_as_json_is_415(rejected_body, content_type):
    rejected_body('{"key": "x"}', 415, content_type=content_type)


def test_json_with_a_charset_parameter_is_accepted(api):
    response = api.post(RECORDS, {"key": "x"}, content_type="application/json; charset=utf-8")

    assert response.status_code == 201
    assert response.json()["received"] == {"key": "x"}


def test_body_of_exactly_the_size_limit_is_accepted_whole(api):
    body = body_of_size(MAX_BODY_BYTES)

    response = api.post(RECORDS, body)

    assert response.status_code == 201
    assert response.json()["received"] == json.loads(body)


def test_a_value_nested_as_deep_as_the_size_limit_allows_is_read_whole(api):
    # The deepest nesting a body within the limit holds: Python's parser reads it, so it is no error at all.
    start, end = b'{"key": ', b"}"
    depth = (MAX_BODY_BYTES - len(start) - len(end)) // 2
    nested = b"[" * depth + b"]" * depth

    response = api.post(RECORDS, start + nested + end)

    assert response.status_code == 201
    # Compared as bytes: a comparison of the parsed lists would recurse as deep.
    assert nested in response.content


def test_body_over_the_size_limit_is_413(rejected_body):
    rejected_body(body_of_size(MAX_BODY_BYTES + 1), 413)


def test_size_limit_is_enforced_before_the_body_is_read(rejected_body):
    # The test client fails the test if the view reads past the bytes actually
    # sent, so only a check of Content-Length alone can pass.
    rejected_body(b'{"key": "x"}', 413, CONTENT_LENGTH=str(10 * 1024 * 1024))


def test_malformed_content_length_is_400(rejected_body):
    rejected_body(b'{"key": "x"}', 400, CONTENT_LENGTH="lots")


def body_of_size(size):
    start, end = b'{"key": "x", "filler": "', b'"}'
    return start + b"y" * (size - len(start) - len(end)) + end
