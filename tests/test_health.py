import json
import os
import subprocess
import sys

import pytest


def test_healthz_answers_without_the_database(api):
    # No django_db mark: any database query here would fail the test.
    response = api.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_healthz_ignores_allowed_hosts(api, settings):
    settings.ALLOWED_HOSTS = ["api.example.com"]

    assert api.get("/healthz", HTTP_HOST="10.1.2.3:8000").status_code == 200


@pytest.mark.django_db
def test_readyz_is_200_when_the_database_answers(api):
    assert api.get("/readyz").status_code == 200


def test_readyz_is_503_when_the_database_is_unreachable():
    # A real connection attempt to a port where nothing listens, in a fresh process.
    script = (
        "import django, json; django.setup(); from django.test import Client; "
        "r = Client().get('/readyz'); "
        "print(json.dumps({'status': r.status_code, 'type': r['Content-Type'], 'body': r.json()}))"
    )
    env = {**os.environ, "DATABASE_URL": "postgres://nobody:secret@127.0.0.1:1/none", "DJANGO_DEBUG": "1"}

    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=30)

    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.splitlines()[-1])
    assert answer["status"] == 503
    assert answer["type"] == "application/problem+json"
    assert "database" in answer["body"]["detail"]
