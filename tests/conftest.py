"""Fixtures of the in-image tests, on helpers.py."""

import pytest
from helpers import JsonClient


@pytest.fixture
def api(client):
    return JsonClient(client)


@pytest.fixture
def make_note(api):
    def make(title="A title", body="A body"):
        response = api.post("/api/notes/", {"title": title, "body": body})
        assert response.status_code == 201, response.content
        return response.json()

    return make
