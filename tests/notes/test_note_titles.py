"""A blank title is what the OpenAPI document calls blank, no more and no less.

The document's Title pattern is read as JSON Schema reads it, in ECMA-262's
dialect, by jsonschema-rs (the validator schemathesis checks with), not by
Python's re, which would agree with the server by accident. The titles are made
of the characters on which Python's str.strip() and ECMA-262's \\s disagree
(U+001C to U+001F and U+0085 only for Python, U+FEFF only for ECMA-262) and of
the space separators (Zs), where they agree; each alone and around a visible
character.
"""

import json
import re
import sys
import unicodedata

import jsonschema_rs
import pytest
from django_helpers import assert_problem

from app.notes.models import Note
from app.notes.views import OPENAPI_PART

pytestmark = pytest.mark.django_db

TITLE = json.loads(OPENAPI_PART.read_bytes())["components"]["schemas"]["Title"]
DOCUMENT_ALLOWS = jsonschema_rs.validator_for(TITLE).is_valid
SPACE_SEPARATORS = [chr(code) for code in range(sys.maxunicode + 1) if unicodedata.category(chr(code)) == "Zs"]
CHARACTERS = ["\u001c", "\u001d", "\u001e", "\u001f", "\u0085", "\ufeff", *SPACE_SEPARATORS]
TITLES = [title for character in CHARACTERS for title in [character, f"{character}x{character}"]]


def test_the_title_pattern_means_the_same_in_ecma_262_and_in_python():
    # Python's \s, \d, \w and \b take in more of Unicode than ECMA-262's: the server,
    # which checks a title with Python's re, would read another set of characters.
    assert not re.search(r"\\[sSdDwWbB]", TITLE["pattern"])


@pytest.mark.parametrize("title", TITLES, ids=ascii)
@pytest.mark.parametrize("method", ["post", "patch"])
def test_a_title_is_refused_as_blank_exactly_when_the_document_refuses_it(api, make_note, method, title):
    url = "/api/notes/" if method == "post" else f"/api/notes/{make_note()['id']}/"

    response = api.request(method, url, {"title": title})

    if DOCUMENT_ALLOWS(title):
        assert response.status_code == (201 if method == "post" else 200), response.content
        assert Note.objects.get(pk=response.json()["id"]).title == title
    else:
        assert assert_problem(response, 400)["errors"] == {"title": "Must not be blank."}
