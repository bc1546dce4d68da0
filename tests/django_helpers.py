"""What the in-image tests share: a JSON client, tokens, the token table, the check of an error response, a seed.

Test modules import from here, never from each other or from conftest.py.
"""

import io
import json
import os
import secrets

from django.core.management import call_command

from app.api.models import Token

# The seed of the OpenAPI document's property-based tests (test_openapi.py): new on every run, unless
# SCHEMATHESIS_SEED gives one, to replay a run. conftest.py prints it in pytest's header.
SCHEMATHESIS_SEED = int(os.environ.get("SCHEMATHESIS_SEED") or secrets.randbits(32))


class JsonClient:
    """Django's test client, speaking JSON: the requests a real API client sends."""

    def __init__(self, client):
        self.client = client

    def request(self, method, path, body=None, **kwargs):
        if body is not None:
            kwargs.setdefault("content_type", "application/json")
            # Set as a header too: the test client drops the Content-Type of an empty body, a real client does not.
            kwargs.setdefault("CONTENT_TYPE", kwargs["content_type"])
            kwargs["data"] = body if isinstance(body, (str, bytes)) else json.dumps(body)
        return getattr(self.client, method)(path, **kwargs)

    def get(self, path, **kwargs):
        return self.request("get", path, **kwargs)

    def post(self, path, body=None, **kwargs):
        return self.request("post", path, body, **kwargs)

    def patch(self, path, body=None, **kwargs):
        return self.request("patch", path, body, **kwargs)

    def delete(self, path, **kwargs):
        return self.request("delete", path, **kwargs)


def assert_problem(response, status):
    """The response is an RFC 9457 problem with this status; returns its body."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["title"] and body["detail"]
    return body


def create_token(scope, name=None):
    """A new API token, made as an operator makes one: with createtoken, whose last line of output it is."""
    output = io.StringIO()
    name = name or f"test-{secrets.token_hex(4)}"
    call_command("createtoken", name, "--scope", scope, stdout=output, stderr=io.StringIO())
    return output.getvalue().splitlines()[-1]


def bearer(token):
    """The headers that send a token, for the test client's `headers=`."""
    return {"Authorization": f"Bearer {token}"}


def token_table():
    """Every row of the tokens' table, which the harness's records are rows of too: what "changes nothing" compares."""
    return list(Token.objects.values())
