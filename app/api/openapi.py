"""The service's OpenAPI document, put together from parts and served as it is."""

import json
from pathlib import Path

from django.http import HttpResponse

from app.api.auth import public
from app.api.views import JsonView

# This package's part: the probes, this document's own path, the error shape and responses.
API_PART = Path(__file__).with_name("openapi.json")


def openapi_document(*parts):
    """This package's part merged with each part given (a path to a JSON file), as JSON bytes."""
    document = json.loads(API_PART.read_bytes())
    for part in parts:
        merge(document, json.loads(Path(part).read_bytes()), part)
    return json.dumps(document).encode()


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
