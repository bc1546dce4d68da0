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
