"""Fixtures of the in-image tests, on django_helpers.py."""

import pytest
from django.test import Client
from django_helpers import SCHEMATHESIS_SEED, JsonClient, bearer, create_token


def pytest_report_header():
    return f"schemathesis seed: {SCHEMATHESIS_SEED} (make test-app SCHEMATHESIS_SEED={SCHEMATHESIS_SEED} replays it)"


@pytest.fixture
def api(db):
    """A client with a write token, which may do anything: what most tests send."""
    return JsonClient(Client(headers=bearer(create_token("write"))))


@pytest.fixture
def anonymous(client):
    """A client without a token, for what is public, and for what must refuse it."""
    return JsonClient(client)
