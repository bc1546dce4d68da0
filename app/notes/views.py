"""The notes API, the example to replace with your own: a model, views on the machinery of app.api."""

from pathlib import Path

from django.db import transaction
from django.db.models import Func, Subquery
from django.http import HttpResponse, JsonResponse

from app.api.openapi import schema_pattern
from app.api.views import MAX_BIGINT, ApiError, JsonView, query_int, read_json_object, string_problem
from app.notes.models import Note

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
TITLE_MAX_LENGTH = Note._meta.get_field("title").max_length
# The number of all notes, as a subquery. Func, not the Count aggregate, which would
# make Django group the outer query by every column.
TOTAL = Note.objects.order_by().annotate(total=Func("id", function="COUNT")).values("total")
# The example's part of the API's contract (config/urls.py joins it to app.api's), kept beside the code it describes.
OPENAPI_PART = Path(__file__).with_name("openapi.json")
# A title that is not blank, as the document says it: one character at least outside the spaces its pattern
# lists, ECMA-262's \s, the set the document has always meant, so that clients generated from it agree.
TITLE_PATTERN = schema_pattern(OPENAPI_PART, "Title")


class NoteCollection(JsonView):
    def get(self, request):
        limit = query_int(request, "limit", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
        offset = query_int(request, "offset", 0, 0, MAX_BIGINT)
        # The page and the total in one statement, so one round trip to the
        # database, and the two always agree: the subquery counts every
        # note, before LIMIT and OFFSET apply, and PostgreSQL runs it once.
        page = list(Note.objects.annotate(total=Subquery(TOTAL))[offset : offset + limit])
        # A page past the end has no row to carry the total: only then is it asked for alone.
        count = page[0].total if page else Note.objects.count()
        return JsonResponse({"count": count, "results": [note.as_json() for note in page]})

    def post(self, request):
        fields = note_fields(request, partial=False)
        note = Note.objects.create(**fields)
        return JsonResponse(note.as_json(), status=201, headers={"Location": f"/api/notes/{note.id}/"})


class NoteItem(JsonView):
    def get(self, request, note_id):
        return JsonResponse(find_note(Note.objects, note_id).as_json())

    def patch(self, request, note_id):
        fields = note_fields(request, partial=True)
        # Lock the row so that two concurrent PATCHes cannot interleave.
        with transaction.atomic():
            note = find_note(Note.objects.select_for_update(), note_id)
            for name, value in fields.items():
                setattr(note, name, value)
            note.save()
        return JsonResponse(note.as_json())

    def delete(self, request, note_id):
        find_note(Note.objects, note_id).delete()
        return HttpResponse(status=204)


def find_note(queryset, note_id):
    # An id beyond the column's range cannot exist; asking the database would be an error.
    note = queryset.filter(pk=note_id).first() if note_id <= MAX_BIGINT else None
    if note is None:
        raise ApiError(404, f"There is no note with id {note_id}.")
    return note


def note_fields(request, partial):
    """The validated fields of a note from a JSON request body, or an ApiError saying what is wrong."""
    data = read_json_object(request)
    errors = {name: "Unknown field." for name in data if name not in {"title", "body"}}
    if not partial and "title" not in data:
        errors["title"] = "This field is required."
    for name in {"title", "body"} & data.keys():
        problem_with_value = string_problem(data[name])
        if problem_with_value is None and name == "title":
            # The pattern refuses NUL characters too, which string_problem has already.
            if not TITLE_PATTERN.search(data[name]):
                problem_with_value = "Must not be blank."
            elif len(data[name]) > TITLE_MAX_LENGTH:
                problem_with_value = f"Must be at most {TITLE_MAX_LENGTH} characters."
        if problem_with_value:
            errors[name] = problem_with_value
    if errors:
        raise ApiError(400, "The note is invalid.", errors=errors)
    return data
