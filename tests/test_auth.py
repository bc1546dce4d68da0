"""Bearer tokens: every view refuses a request without a valid token, unless its code marks it public.

tests/test_tokens.py tests the commands that make and revoke tokens;
tests/host/test_tokens_in_container.py the same answers through uWSGI, and the logs and
the database of a running container.
"""

import io
import logging
import time

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.http import JsonResponse
from django.test import Client
from django.urls import path
from django.views import View
from django_helpers import JsonClient, assert_problem, bearer, create_token, token_table
from harness import urls as harness_urls

from app.api.auth import TOKEN_MEMORY_SECONDS, RecentTokens, public
from app.api.models import Token, token_digest
from app.server.logs import JsonFormatter

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]
CHALLENGE = 'Bearer realm="api"'
# The API's promise for a revoked token (docs/api.md); the worker's memory of tokens stays within it.
REVOKED_WITHIN_SECONDS = 5


# This module doubles as every test's URLconf: the service's own with the
# harness's routes and error handlers, plus views of the kinds a project adds later.
handler400, handler403 = harness_urls.handler400, harness_urls.handler403
handler404, handler500 = harness_urls.handler404, harness_urls.handler500


def added_later(request):
    return JsonResponse({"answered": True})


@public
def opened(request):
    return JsonResponse({"answered": True})


@public
class OpenedView(View):
    def get(self, request):
        return JsonResponse({"answered": True})


class SubclassOfAnOpenedView(OpenedView):
    pass


def crash(request):
    raise RuntimeError("a bug")


urlpatterns = [
    *harness_urls.urlpatterns,
    path("added-later", added_later),
    path("opened", opened),
    path("opened-view", OpenedView.as_view()),
    path("subclass-of-an-opened-view", SubclassOfAnOpenedView.as_view()),
    path("crash", crash),
]


def assert_refused(response, status=401, challenge=CHALLENGE):
    """A problem with this status and exactly this WWW-Authenticate challenge."""
    assert_problem(response, status)
    assert response["WWW-Authenticate"] == challenge


@pytest.fixture
def record(api):
    """The id of a row the harness made, for the requests on one record."""
    response = api.post("/harness/records/", {})
    assert response.status_code == 201, response.content
    return response.json()["id"]


def all_requests(record_id):
    """Every operation of the harness's routes, each with a body it would accept."""
    return [
        ("get", "/harness/records/", None),
        ("post", "/harness/records/", {"title": "new"}),
        ("get", f"/harness/records/{record_id}/", None),
        ("delete", f"/harness/records/{record_id}/", None),
    ]


def test_every_operation_without_a_token_is_a_401_and_changes_nothing(anonymous, record):
    before = token_table()

    for method, url, body in all_requests(record):
        assert_refused(anonymous.request(method, url, body))

    assert token_table() == before


def test_a_write_token_may_do_everything(anonymous, record):
    token = create_token("write")
    statuses = [
        anonymous.request(method, url, body, headers=bearer(token)).status_code
        for method, url, body in all_requests(record)
    ]

    assert statuses == [200, 201, 200, 204]


def test_a_read_token_reads_and_every_write_with_it_is_a_403_that_changes_nothing(anonymous, record):
    token = create_token("read")
    before = token_table()

    for method, url, body in all_requests(record):
        response = anonymous.request(method, url, body, headers=bearer(token))
        if method == "get":
            assert response.status_code == 200
        else:
            challenge = f'{CHALLENGE}, error="insufficient_scope", scope="write"'
            assert_refused(response, 403, challenge)
    assert anonymous.request("head", "/harness/records/", headers=bearer(token)).status_code == 200
    assert anonymous.request("options", "/harness/records/", headers=bearer(token)).status_code == 200
    assert token_table() == before


@pytest.mark.parametrize("method", ["put", "patch"])
def test_a_read_token_is_refused_a_method_the_path_does_not_even_support(anonymous, record, method):
    # Any method that is not safe needs write: the scope is checked before the view looks at the method.
    url = f"/harness/records/{record}/"

    response = anonymous.request(method, url, {"title": "x"}, headers=bearer(create_token("read")))

    assert response.status_code == 403


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
def test_the_scheme_is_case_insensitive(anonymous, scheme):
    response = anonymous.get("/harness/records/", headers={"Authorization": f"{scheme} {create_token('read')}"})

    assert response.status_code == 200


def test_more_than_one_space_may_separate_scheme_and_token(anonymous):
    # RFC 9110's credentials: auth-scheme 1*SP token68.
    response = anonymous.get("/harness/records/", headers={"Authorization": f"Bearer   {create_token('read')}"})

    assert response.status_code == 200


@pytest.mark.parametrize(
    "header",
    [
        "",
        " ",
        "Bearer",
        "Bearer ",
        "{token}",
        "Basic dXNlcjpwYXNzd29yZA==",
        "Token {token}",
        "Bearer: {token}",
        "Bearer\t{token}",
        "Bearer {token} {token}",
        "Bearer {token}, Bearer {token}",
        "Bearer " + "a" * 10 * 1024,
        "Bearer {token}é",
        "Bearer " + "ü" * 43,
        "Bearer {token}\x00",
        "Bearer \u2603",
    ],
    ids=[
        "empty",
        "a space",
        "bearer alone",
        "bearer and a space",
        "token without scheme",
        "basic",
        "other scheme",
        "colon after the scheme",
        "tab after the scheme",
        "two tokens",
        "two credentials",
        "10 KB",
        "non-ascii after a token",
        "non-ascii latin-1",
        "NUL",
        "beyond latin-1",
    ],
)
def test_a_missing_or_malformed_authorization_header_is_a_401(anonymous, header):
    token = create_token("write")

    response = anonymous.get("/harness/records/", headers={"Authorization": header.format(token=token)})

    assert_refused(response)


@pytest.mark.parametrize(
    "token",
    ["made-up", "x" * 43, "{token}x", "{token_prefix}", "{digest}"],
    ids=["made up", "the right length", "one character more", "its prefix", "its digest"],
)
def test_a_token_that_is_not_one_of_ours_is_a_401_invalid_token(anonymous, token):
    real = create_token("write")
    sent = token.format(token=real, token_prefix=real[:6], digest=token_digest(real))

    response = anonymous.get("/harness/records/", headers=bearer(sent))

    assert_refused(response, 401, f'{CHALLENGE}, error="invalid_token"')


def test_a_token_in_the_query_string_is_not_accepted(anonymous):
    token = create_token("write")

    for name in ["access_token", "token"]:
        assert_refused(anonymous.get(f"/harness/records/?{name}={token}"))


def test_a_revoked_token_is_refused_within_5_seconds(anonymous):
    token = create_token("read", name="leaving")
    assert anonymous.get("/harness/records/", headers=bearer(token)).status_code == 200  # so a worker remembers it

    call_command("revoketoken", "leaving", stdout=io.StringIO())
    revoked = time.monotonic()

    while (response := anonymous.get("/harness/records/", headers=bearer(token))).status_code == 200:
        assert time.monotonic() - revoked < REVOKED_WITHIN_SECONDS, "the revoked token is still accepted"
        time.sleep(0.1)
    assert_refused(response, 401, f'{CHALLENGE}, error="invalid_token"')


def test_the_worker_remembers_tokens_for_less_than_the_revocation_promise():
    assert TOKEN_MEMORY_SECONDS < REVOKED_WITHIN_SECONDS


def test_an_unauthenticated_3_mb_post_is_refused_before_its_body_is_read(anonymous):
    # 3 MB declared, a few bytes sent: the test client fails the test if anything
    # reads past them, and a view that looked would answer 413 first.
    def post(headers):
        body, declared = b'{"title": "x"}', str(3 * 1024 * 1024)
        return anonymous.post("/harness/records/", body, CONTENT_LENGTH=declared, headers=headers).status_code

    assert post({}) == 401
    assert post(bearer(create_token("read"))) == 403
    assert post(bearer(create_token("write"))) == 413  # what the view answers, once it is reached
    assert not Token.objects.filter(name__startswith="harness-").exists()


def test_a_token_is_looked_up_once_and_then_remembered(anonymous, django_assert_num_queries):
    headers = bearer(create_token("read"))
    lookup = 1
    # The view's own query: the count of records.
    with django_assert_num_queries(lookup + 1):
        assert anonymous.get("/harness/records/", headers=headers).status_code == 200
    with django_assert_num_queries(1):
        assert anonymous.get("/harness/records/", headers=headers).status_code == 200


def test_remembered_tokens_are_bounded_in_number_and_time(django_assert_num_queries):
    memory = RecentTokens(size=2, seconds=1)
    digests = [token_digest(create_token(scope)) for scope in ["read", "write", "read"]]
    for digest in digests:
        memory.scope(digest)

    assert list(memory.entries) == digests[1:]  # the oldest pushed out
    with django_assert_num_queries(0):
        assert memory.scope(digests[1]) == "write"
    with django_assert_num_queries(1):
        assert memory.scope(digests[0]) == "read"
    time.sleep(1)
    with django_assert_num_queries(1):
        assert memory.scope(digests[2]) == "read"


def test_a_token_that_does_not_exist_is_not_remembered(django_assert_num_queries):
    memory = RecentTokens()

    for _ in range(2):
        with django_assert_num_queries(1):
            assert memory.scope(token_digest("made-up")) is None
    assert memory.entries == {}


def test_a_new_view_needs_a_token_without_doing_anything(anonymous):
    assert_refused(anonymous.get("/added-later"))
    assert anonymous.get("/added-later", headers=bearer(create_token("read"))).status_code == 200


@pytest.mark.parametrize("url", ["/opened", "/opened-view"])
def test_a_view_marked_public_answers_without_a_token(anonymous, url):
    assert anonymous.get(url).json() == {"answered": True}


def test_a_subclass_of_a_public_view_needs_a_token_unless_it_says_otherwise(anonymous):
    assert_refused(anonymous.get("/subclass-of-an-opened-view"))


@pytest.mark.parametrize("url", ["/healthz", "/readyz", "/api/openapi.json"])
def test_the_probes_and_the_document_need_no_token(anonymous, url):
    assert anonymous.get(url).status_code == 200


def test_an_unknown_path_is_a_404_without_a_token(anonymous):
    # The public OpenAPI document lists every path: refusing to say which exist would hide nothing.
    assert_problem(anonymous.get("/no/such/page"), 404)


def test_no_log_record_holds_a_token_at_any_level_in_either_format(settings, caplog):
    # DEBUG on: Django logs each SQL statement with its parameters, the most it ever logs.
    settings.DEBUG = True
    for logger in [None, "django", "django.request"]:
        caplog.set_level(logging.DEBUG, logger=logger)
    client = JsonClient(Client(raise_request_exception=False))
    write, read, revoked = create_token("write"), create_token("read"), create_token("write", name="revoked")
    call_command("revoketoken", "revoked", stdout=io.StringIO())
    record = client.post("/harness/records/", {"title": "logged?"}, headers=bearer(write)).json()
    client.get(f"/harness/records/{record['id']}/", headers=bearer(read))
    client.delete(f"/harness/records/{record['id']}/", headers=bearer(read))
    client.get("/harness/records/", headers=bearer(revoked))
    client.get("/harness/records/", headers={"Authorization": f"Token {write}"})
    client.get(f"/harness/records/?access_token={read}")
    client.get("/crash", headers=bearer(write))

    assert any("api_token" in record.getMessage() for record in caplog.records), "no lookup was logged"
    assert any(record.exc_info for record in caplog.records), "the crash was not logged"
    text = logging.Formatter(django_settings.LOGGING["formatters"]["text"]["format"])
    lines = [formatter.format(record) for record in caplog.records for formatter in [text, JsonFormatter()]]
    for token in [write, read, revoked]:
        assert not [line for line in lines if token in line]
