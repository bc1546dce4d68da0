"""The base of the API's views, and the parsing of what a client sends: JSON in, JSON out."""

import json

from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from app.api.problems import method_not_allowed, problem

MAX_BODY_BYTES = 64 * 1024
# The largest value a PostgreSQL bigint (an id column, and OFFSET) can hold.
MAX_BIGINT = 2**63 - 1


class ApiError(Exception):
    """Raised anywhere in a request to answer with a problem-details response."""

    def __init__(self, status, detail, **extra):
        super().__init__(detail)
        self.status, self.detail, self.extra = status, detail, extra


# The API authenticates with bearer tokens, never cookies (app/api/auth.py): a
# browser sends no token by itself, so cross-site request forgery does not apply.
@method_decorator(csrf_exempt, name="dispatch")
class JsonView(View):
    def dispatch(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        except ApiError as error:
            return problem(error.status, error.detail, **error.extra)

    def http_method_not_allowed(self, request, *args, **kwargs):
        return method_not_allowed(request.method, self._allowed_methods())


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


def string_problem(value):
    """What is wrong with a value that must be a string PostgreSQL can store, or None."""
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
    # proxy and this service could read two different objects from one body.
    data = {}
    for name, value in pairs:
        if name in data:
            raise ApiError(400, f"The body has the key {name!r} more than once.")
        data[name] = value
    return data
