"""The notes API: plain Django views, JSON in and out."""

import json
from pathlib import Path

from django.db import transaction
from django.db.models import Func, Subquery
from django.http import HttpResponse, JsonResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from app.errors import problem
from app.models import Note

MAX_BODY_BYTES = 64 * 1024
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
# The largest value a PostgreSQL bigint (the id column, and OFFSET) can hold.
MAX_BIGINT = 2**63 - 1
TITLE_MAX_LENGTH = Note._meta.get_field("title").max_length
# The number of all notes, as a subquery. Func, not the Count aggregate, which would
# make Django group the outer query by every column.
TOTAL = Note.objects.order_by().annotate(total=Func("id", function="COUNT")).values("total")
# The API's contract, kept beside the code it describes and served as it is.
OPENAPI_DOCUMENT = Path(__file__).with_name("openapi.json").read_bytes()


class ApiError(Exception):
    """Raised anywhere in a request to answer with a problem-details response."""

    def __init__(self, status, detail, **extra):
        super().__init__(detail)
        self.status, self.detail, self.extra = status, detail, extra


# The API authenticates without cookies, so cross-site request forgery does not apply.
@method_decorator(csrf_exempt, name="dispatch")
class JsonView(View):
    def dispatch(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        except ApiError as error:
            return problem(error.status, error.detail, **error.extra)

    def http_method_not_allowed(self, request, *args, **kwargs):
        response = problem(405, f"{request.method} is not allowed here.")
        response["Allow"] = ", ".join(self._allowed_methods())
        return response


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


class OpenApiDocument(JsonView):
    def get(self, request):
        return HttpResponse(OPENAPI_DOCUMENT, content_type="application/json")


def find_note(queryset, note_id):
    # An id beyond the column's range cannot exist; asking the database would be an error.
    note = queryset.filter(pk=note_id).first() if note_id <= MAX_BIGINT else None
    if note is None:
        raise ApiError(404, f"There is no note with id {note_id}.")
    return note


def query_int(request, name, default, minimum, maximum):
    raw = request.GET.get(name)
    if raw is None:
        return default
    try:
        # Plain ASCII digits only: int() would also take " 5", "+5", "1_000" and other scripts' digits.
        value = int(raw) if raw.isascii() and raw.isdigit() else None
    except ValueError:  # more digits than int() converts
        value = None
    if value is None or not minimum <= value <= maximum:
        raise ApiError(400, f"Query parameter {name!r} must be an integer from {minimum} to {maximum}.")
    return value


def note_fields(request, partial):
    """The validated fields of a note from a JSON request body, or an ApiError saying what is wrong."""
    data = read_json_object(request)
    errors = {name: "Unknown field." for name in data if name not in {"title", "body"}}
    if not partial and "title" not in data:
        errors["title"] = "This field is required."
    for name in {"title", "body"} & data.keys():
        problem_with_value = string_problem(data[name])
        if problem_with_value is None and name == "title":
            if not data[name].strip():
                problem_with_value = "Must not be blank."
            elif len(data[name]) > TITLE_MAX_LENGTH:
                problem_with_value = f"Must be at most {TITLE_MAX_LENGTH} characters."
        if problem_with_value:
            errors[name] = problem_with_value
    if errors:
        raise ApiError(400, "The note is invalid.", errors=errors)
    return data


def string_problem(value):
    if not isinstance(value, str):
        return "Must be a string."
    if "\x00" in value:
        return "Must not contain NUL characters."
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "Must be valid Unicode (no lone surrogates)."
    return None


def read_json_object(request):
    if request.content_type != "application/json":
        raise ApiError(415, "The body must be JSON, sent with Content-Type: application/json.")
    try:
        length = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        raise ApiError(400, "The Content-Length header is not a number.") from None
    # Checked before reading the body, so an oversized request costs no memory.
    if length > MAX_BODY_BYTES:
        raise ApiError(413, f"The body must be at most {MAX_BODY_BYTES} bytes.")
    try:
        data = json.loads(
            request.body.decode("utf-8"), parse_constant=reject_constant, object_pairs_hook=reject_duplicate_keys
        )
    except UnicodeDecodeError:
        raise ApiError(400, "The body is not valid UTF-8.") from None
    except (ValueError, RecursionError) as error:
        raise ApiError(400, f"The body is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise ApiError(400, "The body must be a JSON object.")
    return data


def reject_constant(name):
    # Python's json accepts NaN and Infinity; JSON does not.
    raise ValueError(f"{name} is not allowed in JSON")


def reject_duplicate_keys(pairs):
    # Python's json keeps the last of a repeated key, other parsers the first: a
    # proxy and this service could read two different notes from one body.
    data = {}
    for name, value in pairs:
        if name in data:
            raise ApiError(400, f"The body has the key {name!r} more than once.")
        data[name] = value
    return data
