"""How many queries listing notes costs, so that the number cannot grow unnoticed.

tests/host/notes/test_notes_statements_logged.py counts the statements PostgreSQL
receives for the same behind uWSGI. The token's lookup is not counted:
make_note's requests sent the same token, which the worker still remembers
(tests/test_auth.py counts the lookup).
"""

import pytest

pytestmark = pytest.mark.django_db


def test_a_page_and_its_count_are_one_query(api, make_note, django_assert_num_queries):
    for number in range(3):
        make_note(f"note {number}")

    with django_assert_num_queries(1):
        page = api.get("/api/notes/?limit=2").json()

    assert page["count"] == 3
    assert [note["title"] for note in page["results"]] == ["note 2", "note 1"]


def test_a_page_past_the_end_asks_for_the_count_alone(api, make_note, django_assert_num_queries):
    make_note()

    with django_assert_num_queries(2):
        page = api.get("/api/notes/?offset=1").json()

    assert page == {"count": 1, "results": []}
