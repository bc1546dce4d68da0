"""The machinery's checks of a query parameter (query_int) and of a string a client sends (string_problem).

Called directly: no route of the service's own or of the harness uses them; a
team's views do, each with its own bounds and fields.
"""

import pytest
from django.test import RequestFactory

from app.api.views import ApiError, query_int, string_problem


def limit(query_string):
    """query_int's reading of `limit`, from 1 to 100 and 20 by default, in a GET with this query string."""
    return query_int(RequestFactory().get(f"/?{query_string}"), "limit", 20, 1, 100)


@pytest.mark.parametrize(("query_string", "value"), [("", 20), ("limit=1", 1), ("limit=100", 100), ("limit=007", 7)])
def test_an_integer_within_the_bounds_is_its_value_and_none_the_default(query_string, value):
    assert limit(query_string) == value


@pytest.mark.parametrize(
    "query_string",
    [
        "limit=0",
        "limit=101",
        "limit=ten",
        "limit=",
        "limit=-1",
        "limit=+5",
        "limit=%205",
        "limit=1_0",
        "limit=1.5",
        "limit=%D9%A3",  # ARABIC-INDIC DIGIT THREE, which int() would take
        f"limit={'9' * 5000}",  # more digits than int() converts
    ],
)
def test_anything_else_is_a_400_naming_the_parameter(query_string):
    with pytest.raises(ApiError) as refused:
        limit(query_string)

    assert refused.value.status == 400
    assert "'limit'" in refused.value.detail


@pytest.mark.parametrize("value", ["", "text", "\U0001f600" * 200, "tab\tand newline\n"])
def test_a_string_postgresql_can_store_has_no_problem(value):
    assert string_problem(value) is None


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (42, "string"),
        (None, "string"),
        (["x"], "string"),
        (b"bytes", "string"),
        ("nul\x00byte", "NUL"),
        ("lone \ud800 surrogate", "surrogate"),
    ],
)
def test_anything_else_is_named_for_what_is_wrong(value, problem):
    assert problem in string_problem(value)
