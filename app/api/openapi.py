"""The service's OpenAPI document, put together from parts and served as it is."""

import json
import re
from pathlib import Path

from django.http import HttpResponse

from app.api.auth import public
from app.api.views import JsonView

# This package's part: the probes, this document's own path, the error shape and responses.
API_PART = Path(__file__).with_name("openapi.json")
# The escapes that Python's re reads otherwise than ECMA-262, the dialect of JSON Schema's
# patterns: Python's \s, \d, \w and \b take in all of Unicode's spaces, digits and letters.
UNPORTABLE_ESCAPES = {r"\s", r"\S", r"\d", r"\D", r"\w", r"\W", r"\b", r"\B"}


def openapi_document(*parts):
    """This package's part merged with each part given (a path to a JSON file), as JSON bytes."""
    document = json.loads(API_PART.read_bytes())
    for part in parts:
        merge(document, json.loads(Path(part).read_bytes()), part)
    return json.dumps(document).encode()


def schema_pattern(part, name):
    """The pattern of the schema `name` in a part of the document (a path to a JSON file), compiled by Python's re.

    So that a view checks a string with the very pattern the document gives its
    clients. The pattern must mean the same in both dialects: one with an escape
    of UNPORTABLE_ESCAPES is refused (ValueError); write out the characters it
    stands for instead, as code points. Not checked, as they differ only at line
    ends: Python's `.` also takes \\r, U+2028 and U+2029, and its `$` also
    matches before a final \\n.
    """
    pattern = json.loads(Path(part).read_bytes())["components"]["schemas"][name]["pattern"]
    unportable = set(re.findall(r"\\.", pattern)) & UNPORTABLE_ESCAPES
    if unportable:
        raise ValueError(
            f"{part}: the pattern of {name} uses {', '.join(sorted(unportable))}, which Python's re reads "
            "otherwise than ECMA-262: write out the characters it stands for."
        )
    return re.compile(pattern)


def merge(document, part, source, where="#"):
    for name, value in part.items():
        if isinstance(value, dict) and isinstance(document.get(name), dict):
            merge(document[name], value, source, f"{where}/{name}")
        elif name in document:
            raise ValueError(f"{source} defines {where}/{name}, which another part of the OpenAPI document defines.")
        else:
            document[name] = value


# The contract is no secret: clients need it to find out how to authenticate.
@public
class OpenApiDocument(JsonView):
    document = b""  # given to as_view()

    def get(self, request):
        return HttpResponse(self.document, content_type="application/json")
