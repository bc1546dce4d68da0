import pytest


def test_healthz_answers_without_the_database(anonymous):
    # No django_db mark: any database query here would fail the test.
    response = anonymous.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_healthz_ignores_allowed_hosts(anonymous, settings):
    settings.ALLOWED_HOSTS = ["api.example.com"]

    assert anonymous.get("/healthz", HTTP_HOST="10.1.2.3:8000").status_code == 200


@pytest.mark.django_db
def test_readyz_is_200_when_the_database_answers(anonymous):
    assert anonymous.get("/readyz").status_code == 200
