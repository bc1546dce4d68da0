import pytest
from django_helpers import assert_problem

from app.notes.models import Note

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


# The example's bounds, on both parameters; what query_int parses as an integer
# is tested in tests/test_query_int_and_string_problem.py.
@pytest.mark.parametrize(
    "query",
    ["limit=0", "limit=101", "limit=ten", "offset=-1", "offset=1.5", f"offset={2**63}"],
)
def test_bad_pagination_is_400(api, query):
    body = assert_problem(api.get(f"/api/notes/?{query}"), 400)
    assert query.split("=")[0] in body["detail"]


def test_offset_at_the_database_limit_is_an_empty_page(api, make_note):
    make_note()

    response = api.get(f"/api/notes/?offset={2**63 - 1}&limit=100")

    assert response.status_code == 200
    assert response.json() == {"count": 1, "results": []}


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


@pytest.mark.parametrize("note_id", [0, 999, 2**63 - 1, 2**63, 2**64])
@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_unknown_id_is_404_even_beyond_the_database_range(api, make_note, method, note_id):
    make_note()
    body = {"title": "x"} if method == "patch" else None

    body = assert_problem(api.request(method, f"/api/notes/{note_id}/", body=body), 404)

    assert str(note_id) in body["detail"]
    assert Note.objects.count() == 1


def test_wrong_method_is_405_with_allow(api, make_note):
    response = api.request("put", f"/api/notes/{make_note()['id']}/", body={"title": "x"})

    assert_problem(response, 405)
    assert set(response["Allow"].split(", ")) >= {"GET", "PATCH", "DELETE"}
    assert "PUT" not in response["Allow"]


@pytest.fixture(params=["post", "patch"])
def rejected_write(request, api, make_note):
    """Sends a body as a POST of a new note or as a PATCH of an existing one.

    Checks the answer's status, and that the request changed nothing.
    """
    url = "/api/notes/" if request.param == "post" else f"/api/notes/{make_note()['id']}/"
    before = list(Note.objects.values())

    def send(body, status, **kwargs):
        problem = assert_problem(api.request(request.param, url, body, **kwargs), status)
        assert list(Note.objects.values()) == before
        return problem

    return send


def test_missing_title_is_400(api):
    body = assert_problem(api.post("/api/notes/", {"body": "no title"}), 400)

    assert "required" in body["errors"]["title"]
    assert not Note.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"title": ""}, "title", "blank"),
        ({"title": "   "}, "title", "blank"),
        ({"title": "x" * 201}, "title", "200"),
        ({"title": 42}, "title", "string"),
        ({"title": ["x"]}, "title", "string"),
        ({"title": None}, "title", "string"),
        ({"title": "ok", "body": None}, "body", "string"),
        ({"title": "nul\u0000byte"}, "title", "NUL"),
        ({"title": "ok", "body": "nul\u0000byte"}, "body", "NUL"),
        ('{"title": "\\ud800"}', "title", "surrogate"),
        ('{"title": "ok", "body": "\\udfff"}', "body", "surrogate"),
        ('{"title": 1e999}', "title", "string"),
        ({"title": "ok", "colour": "red"}, "colour", "Unknown"),
    ],
)
def test_invalid_note_is_400_naming_the_field(rejected_write, payload, field, message):
    body = rejected_write(payload, 400)

    assert message in body["errors"][field]


def test_title_of_200_characters_is_accepted_and_stored_intact(api):
    # Characters, not bytes: each of these takes four bytes in UTF-8.
    title = "\U0001f600" * 200

    response = api.post("/api/notes/", {"title": title})

    assert response.status_code == 201
    assert Note.objects.get().title == title


# Every body read_json_object refuses is in tests/test_request_bodies.py; one of each
# kind here shows that both of a note's writes read theirs with it.
@pytest.mark.parametrize(
    ("raw", "status", "headers"),
    [
        (b"not json", 400, {}),
        (b'{"title": "x"}', 415, {"content_type": "text/plain"}),
        (b'{"title": "x"}', 413, {"CONTENT_LENGTH": str(10 * 1024 * 1024)}),
    ],
    ids=["not-json", "not-sent-as-json", "over-the-size-limit"],
)
def test_a_body_the_machinery_refuses_changes_no_note(rejected_write, raw, status, headers):
    rejected_write(raw, status, **headers)


def test_invalid_patch_changes_nothing(api, make_note):
    note = make_note("Keep me")

    assert_problem(api.patch(f"/api/notes/{note['id']}/", {"title": ""}), 400)

    assert api.get(f"/api/notes/{note['id']}/").json() == note
