"""Every error the service answers, Django's own included, is one JSON shape (RFC 9457).

pytest-django runs these with DEBUG off, as in production: with it on, Django
answers some of them with its HTML debugging pages instead.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import path
from django_helpers import JsonClient, assert_problem, bearer, create_token
from harness import urls as harness_urls

# This module doubles as every test's URLconf: the service's own with the
# harness's routes and the error handlers, plus two views that reach error
# paths the API itself never takes.
handler400, handler403 = harness_urls.handler400, harness_urls.handler403
handler404, handler500 = harness_urls.handler404, harness_urls.handler500
pytestmark = pytest.mark.urls(__name__)


def crash(request):
    raise RuntimeError("a bug")


def form_without_csrf_exemption(request):
    return HttpResponse("accepted")


urlpatterns = [*harness_urls.urlpatterns, path("crash", crash), path("form", form_without_csrf_exemption)]


@pytest.fixture(autouse=True)
def debug_off(settings):
    settings.DEBUG = False


def test_disallowed_host_is_a_json_400(api, settings):
    settings.ALLOWED_HOSTS = ["api.example.com"]

    assert_problem(api.get("/harness/records/", HTTP_HOST="evil.example.com"), 400)


# With a token, as every view but the public ones needs.
@pytest.mark.django_db
def test_uncaught_exception_is_a_json_500_without_details():
    api = JsonClient(Client(raise_request_exception=False, headers=bearer(create_token("read"))))

    body = assert_problem(api.get("/crash"), 500)

    assert "a bug" not in json.dumps(body)


@pytest.mark.django_db
def test_failed_csrf_check_is_a_json_403():
    api = JsonClient(Client(enforce_csrf_checks=True, headers=bearer(create_token("write"))))

    body = assert_problem(api.post("/form", {"title": "x"}), 403)

    assert "forgery" in body["detail"]


def test_unknown_path_is_a_json_404(api):
    body = assert_problem(api.get("/no/such/page"), 404)

    assert "/no/such/page" in body["detail"]


@pytest.mark.django_db
def test_missing_trailing_slash_is_a_404_not_a_redirect_that_would_drop_the_body(api):
    assert_problem(api.post("/harness/records", {"title": "x"}), 404)


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("delete", "/harness/records/", {"GET", "HEAD", "POST", "OPTIONS"}),
        ("put", "/harness/records/1/", {"GET", "HEAD", "DELETE", "OPTIONS"}),
        ("post", "/healthz", {"GET", "HEAD"}),
        ("delete", "/readyz", {"GET", "HEAD"}),
    ],
)
def test_unsupported_method_is_a_json_405_with_allow(api, method, path, allowed):
    response = api.request(method, path)

    assert_problem(response, 405)
    assert set(response["Allow"].split(", ")) == allowed


# Each request in a fresh process with DEBUG off, against a port where nothing
# listens: a real failed connection, not a simulated one. The token has the
# right form, so its lookup, in the middleware, is the first to need the
# database: a failure there must be the same 503, not a 500.
UNREACHABLE_DATABASE_SCRIPT = """
import json, django
django.setup()
from django.test import Client
client = Client(headers={"Authorization": "Bearer " + "t" * 43})
answers = []
for method, path, body in json.loads(REQUESTS):
    response = getattr(client, method)(path, data=body, content_type="application/json")
    answers.append([response.status_code, response["Content-Type"], response.json()])
print(json.dumps(answers))
"""


def test_readiness_and_the_api_answer_503_when_the_database_is_unreachable():
    requests = [
        ("get", "/readyz", None),
        ("get", "/harness/records/", None),
        ("post", "/harness/records/", {"title": "lost?"}),
        ("get", "/harness/records/1/", None),
        ("delete", "/harness/records/1/", None),
    ]
    env = {
        **os.environ,
        # The harness's settings, whose routes the requests take; `harness` is a package in tests/.
        "DJANGO_SETTINGS_MODULE": "harness.settings",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).parent), os.environ.get("PYTHONPATH")])),
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "a-test-key-that-is-long-enough-to-look-random-0123456789",
        "DJANGO_ALLOWED_HOSTS": "testserver",
        "DATABASE_URL": "postgres://nobody:secret@127.0.0.1:1/none",
    }
    script = UNREACHABLE_DATABASE_SCRIPT.replace("REQUESTS", repr(json.dumps(requests)))

    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stderr
    for status, content_type, body in json.loads(result.stdout.splitlines()[-1]):
        assert (status, content_type, body["status"]) == (503, "application/problem+json", 503)
        assert "database" in body["detail"]
