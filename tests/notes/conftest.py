"""The example's fixture: a note, made through the API as a client makes one."""

import pytest


@pytest.fixture
def make_note(api):
    def make(title="A title", body="A body"):
        response = api.post("/api/notes/", {"title": title, "body": body})
        assert response.status_code == 201, response.content
        return response.json()

    return make
