"""Test-only routes that stand in for a team's own, so that the machinery's tests need no example.

Authentication, errors, bad input, deadlines and outages are tested through
these, in the image (`pytest.mark.urls("harness.urls")`) and against the prod
image (tests/host/harness.Dockerfile), and so still hold after `make
remove-example`. They use what a real view uses: JsonView, read_json_object and
the database, through the machinery's own table, the tokens'.
"""

import secrets

from django.http import HttpResponse, JsonResponse

from app.api.models import Token
from app.api.views import MAX_BIGINT, ApiError, JsonView, read_json_object


class Records(JsonView):
    def get(self, request):
        return JsonResponse({"count": Token.objects.count()})

    def post(self, request):
        received = read_json_object(request)
        # A row no request can authenticate with: its digest is of no token.
        record = Token.objects.create(
            name=f"harness-{secrets.token_hex(8)}", scope=Token.Scope.READ, digest=secrets.token_hex(32)
        )
        return JsonResponse({"id": record.id, "received": received}, status=201)


class Record(JsonView):
    def get(self, request, record_id):
        return JsonResponse({"id": find_record(record_id).id})

    def delete(self, request, record_id):
        find_record(record_id).delete()
        return HttpResponse(status=204)


def find_record(record_id):
    record = Token.objects.filter(pk=record_id).first() if record_id <= MAX_BIGINT else None
    if record is None:
        raise ApiError(404, f"There is no record with id {record_id}.")
    return record
