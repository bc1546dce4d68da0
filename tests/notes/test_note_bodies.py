"""Random request bodies against the example's writes: none is a server error, none a partial write.

Derandomized, like the OpenAPI document's property-based tests: the same examples every run.
"""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.notes.models import Note

# Any code point, surrogates included. By chance alone Hypothesis rarely picks the few
# that a database or an encoder chokes on, so strings of the second kind hold them often.
any_character = st.characters(exclude_categories=())
awkward_character = st.sampled_from(["\x00", "\ud800", "\udfff", " ", "\U0001f600"])
strings = st.text(any_character) | st.lists(awkward_character | any_character, max_size=210).map("".join)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | strings,
    lambda children: st.lists(children) | st.dictionaries(st.sampled_from(["title", "body"]) | strings, children),
    max_leaves=20,
)
# Often a note or nearly one, so that the field checks run, not only the parser's.
notes = st.fixed_dictionaries({}, optional={"title": strings, "body": strings}) | json_values


def serialized(value, ensure_ascii):
    # Lone surrogates, unescaped, become bytes that are not UTF-8.
    return json.dumps(value, ensure_ascii=ensure_ascii).encode("utf-8", "surrogatepass")


bodies = st.builds(serialized, notes, st.booleans()) | st.binary(max_size=200)


@pytest.mark.django_db
@settings(
    max_examples=300,
    derandomize=True,
    deadline=None,
    # The client fixture is shared by the examples; each one checks only what it changed.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(method=st.sampled_from(["post", "patch"]), body=bodies)
def test_no_request_body_causes_a_server_error_or_a_partial_write(api, method, body):
    target = Note.objects.create(title="the note a PATCH changes")
    before = list(Note.objects.values())

    response = api.request(method, "/api/notes/" if method == "post" else f"/api/notes/{target.id}/", body)

    assert response.status_code < 500, response.content
    if response.status_code >= 400:
        assert list(Note.objects.values()) == before
