import pytest
from conftest import assert_problem

from app.models import Note

pytestmark = pytest.mark.django_db


def test_create_returns_the_note_with_its_id_and_location(api):
    response = api.post("/api/notes/", {"title": "Groceries", "body": "milk"})

    assert response.status_code == 201
    note = response.json()
    assert note["title"] == "Groceries" and note["body"] == "milk"
    assert response["Location"] == f"/api/notes/{note['id']}/"
    assert Note.objects.get(pk=note["id"]).title == "Groceries"


def test_body_is_optional(api):
    response = api.post("/api/notes/", {"title": "Only a title"})

    assert response.status_code == 201
    assert response.json()["body"] == ""


def test_list_is_newest_first_with_count(api, make_note):
    for title in ["first", "second", "third"]:
        make_note(title)

    response = api.get("/api/notes/")

    assert response.status_code == 200
    assert response.json()["count"] == 3
    assert [note["title"] for note in response.json()["results"]] == ["third", "second", "first"]


def test_list_paginates_with_limit_and_offset(api, make_note):
    for number in range(5):
        make_note(f"note {number}")

    page = api.get("/api/notes/?limit=2&offset=1").json()

    assert page["count"] == 5
    assert [note["title"] for note in page["results"]] == ["note 3", "note 2"]


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=ten", "offset=-1", "offset=1.5", f"offset={2**63}"])
def test_bad_pagination_is_400(api, query):
    body = assert_problem(api.get(f"/api/notes/?{query}"), 400)
    assert query.split("=")[0] in body["detail"]


def test_get_patch_delete_one_note(api, make_note):
    note = make_note("Draft", "text")
    url = f"/api/notes/{note['id']}/"

    assert api.get(url).json() == note

    patched = api.patch(url, {"title": "Final"})
    assert patched.status_code == 200
    assert patched.json()["title"] == "Final"
    assert patched.json()["body"] == "text"
    assert patched.json()["updated_at"] > note["updated_at"]

    assert api.delete(url).status_code == 204
    assert_problem(api.get(url), 404)
    assert not Note.objects.exists()


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_unknown_id_is_404(api, method):
    body = {"title": "x"} if method == "patch" else None

    body = assert_problem(api.request(method, "/api/notes/999/", body=body), 404)
    assert "999" in body["detail"]


def test_id_beyond_the_database_range_is_404(api):
    assert_problem(api.get(f"/api/notes/{2**64}/"), 404)


def test_wrong_method_is_405_with_allow(api, make_note):
    response = api.request("put", f"/api/notes/{make_note()['id']}/", body={"title": "x"})

    assert_problem(response, 405)
    assert set(response["Allow"].split(", ")) >= {"GET", "PATCH", "DELETE"}
    assert "PUT" not in response["Allow"]


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({}, "title", "required"),
        ({"title": ""}, "title", "blank"),
        ({"title": "   "}, "title", "blank"),
        ({"title": "x" * 201}, "title", "200"),
        ({"title": 42}, "title", "string"),
        ({"title": "ok", "body": None}, "body", "string"),
        ({"title": "nul\u0000byte"}, "title", "NUL"),
        ({"title": "ok", "colour": "red"}, "colour", "Unknown"),
    ],
)
def test_invalid_note_is_400_naming_the_field(api, payload, field, message):
    body = assert_problem(api.post("/api/notes/", payload), 400)

    assert message in body["errors"][field]
    assert not Note.objects.exists()


def test_title_of_exactly_200_characters_is_accepted(api):
    assert api.post("/api/notes/", {"title": "x" * 200}).status_code == 201


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b'["a", "list"]',
        b'{"title": NaN}',
        b'{"title": "\\ud800"}',
        b'{"title": "\xff"}',
        b"[" * 30_000 + b"]" * 30_000,
    ],
    ids=["not-json", "not-an-object", "nan", "lone-surrogate", "invalid-utf8", "deep-nesting"],
)
def test_malformed_body_is_400(api, raw):
    assert_problem(api.post("/api/notes/", raw), 400)
    assert not Note.objects.exists()


def test_non_json_content_type_is_415(api):
    assert_problem(api.post("/api/notes/", "title=x", content_type="application/x-www-form-urlencoded"), 415)
    assert not Note.objects.exists()


def test_oversized_body_is_413(api):
    assert_problem(api.post("/api/notes/", {"title": "x", "body": "y" * 70_000}), 413)
    assert not Note.objects.exists()


def test_invalid_patch_changes_nothing(api, make_note):
    note = make_note("Keep me")

    assert_problem(api.patch(f"/api/notes/{note['id']}/", {"title": ""}), 400)

    assert api.get(f"/api/notes/{note['id']}/").json() == note
