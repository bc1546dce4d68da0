"""The OpenAPI document, and property-based tests that the API keeps to it.

The property-based tests draw new requests on every run, from a random seed
that pytest's header prints ("schemathesis seed: N"); `make test-app
SCHEMATHESIS_SEED=N` draws from that seed again, to replay a failure seen in
CI on any machine (requests built from the server's answers, such as the ids
of notes created before, can differ). A fixed seed would send the same
requests every run, and never find what they miss. The numbers of examples keep the run to seconds; raise them
locally to search harder.
"""

import json
import re
import sys

import jsonschema_rs
import pytest
import schemathesis
from django.core.management import call_command
from django_helpers import SCHEMATHESIS_SEED, bearer, create_token
from hypothesis import seed, settings

from app.api.auth import SAFE_METHODS, is_public
from app.api.openapi import API_PART, openapi_document, schema_pattern
from config.urls import OPENAPI_DOCUMENT, urlpatterns
from config.wsgi import application

DOCUMENT = json.loads(OPENAPI_DOCUMENT)


def test_the_document_is_served_as_json(anonymous):
    response = anonymous.get("/api/openapi.json")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == DOCUMENT


def test_the_document_is_valid_openapi_3_1():
    assert DOCUMENT["openapi"].startswith("3.1.")
    schemathesis.openapi.from_dict(DOCUMENT).validate()


def test_a_field_defined_by_two_parts_of_the_document_is_an_error():
    # Merged silently, the later part would replace a path or schema of the earlier one.
    with pytest.raises(ValueError, match="defines #/openapi, which another part"):
        openapi_document(API_PART)


def client_accepts(pattern, value):
    """What a client's validator says of a string: JSON Schema's patterns are ECMA-262's regular expressions."""
    return jsonschema_rs.validator_for({"pattern": pattern}).is_valid(value)


def test_a_schema_pattern_is_read_from_its_part_as_clients_read_it_or_refused(tmp_path):
    patterns = {"Digits": "^[0-9\\u0661]+$", "Backslash": "^\\\\d$", "Unportable": "^\\d+$"}
    part = tmp_path / "openapi.json"
    part.write_text(json.dumps({"components": {"schemas": {name: {"pattern": p} for name, p in patterns.items()}}}))

    for name, value, valid in [("Digits", "1\u0661", True), ("Digits", "\u0662", False), ("Backslash", "\\d", True)]:
        assert client_accepts(patterns[name], value) == valid
        assert bool(schema_pattern(part, name).search(value)) == valid
    # Python's \d takes the digits of every script, ECMA-262's only 0 to 9.
    assert re.search(patterns["Unportable"], "\u0662") and not client_accepts(patterns["Unportable"], "\u0662")
    with pytest.raises(ValueError, match=r"the pattern of Unportable uses \\d"):
        schema_pattern(part, "Unportable")


def documented_path(url):
    # Django's "<int:note_id>" is OpenAPI's "{note_id}".
    return "/" + re.sub(r"<\w+:(\w+)>", r"{\1}", str(url.pattern))


# Answered by middleware, before any view and without a token.
PROBES = {"/healthz", "/readyz"}


def test_every_route_is_documented():
    assert set(DOCUMENT["paths"]) == {documented_path(url) for url in urlpatterns} | PROBES


def test_the_document_requires_a_token_where_the_code_does_and_documents_the_refusals():
    public = PROBES | {documented_path(url) for url in urlpatterns if is_public(url.callback)}

    for path, operations in DOCUMENT["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            secured = operation.get("security", DOCUMENT["security"]) != []
            assert secured == (path not in public), f"{method} {path}"
            responses = operation["responses"]
            assert ("401" in responses) == secured, f"{method} {path}"
            assert ("403" in responses) == (secured and method.upper() not in SAFE_METHODS), f"{method} {path}"


# Each character that ECMA-262's \s or Python's str.isspace() calls a space, alone: the strings on which
# the document's patterns (ECMA-262) and a server's checks (Python) most often disagree. Schemathesis puts
# them in the fields of request bodies now and then, as valid data where the document allows them and as
# invalid data where it does not, so that a server that reads them otherwise fails.
SPACES = [character for character in map(chr, range(sys.maxunicode + 1)) if character.isspace()] + ["\ufeff"]
# The properties of the document's schemas: those that are no field of a request body are passed over.
FIELDS = {name for schema in DOCUMENT["components"]["schemas"].values() for name in schema.get("properties", {})}
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SCHEMATHESIS_SEED,
        # Valid requests, which must be accepted, and invalid ones, which must be refused; this many
        # generated per operation, besides the boundary and invalid cases derived from the document.
        "generation": {"mode": "all", "max-examples": 25},
        "dictionaries": {"spaces": {"values": SPACES}},
        "parameters": {f"body.{name}": {"dictionary": "spaces", "probability": 0.1} for name in FIELDS},
    }
)
# Fetched through the WSGI application, as a client would: the document it serves is the one tested.
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application, config=CONFIG)


def credentials(case):
    """The header of a new write token, unless the case tests a request without credentials.

    New for each request: the database, and its tokens, are emptied after each
    test, and schemathesis prepares some requests before any test runs. Given at
    call time, schemathesis takes them for the client's own credentials, which
    its ignored_auth check leaves out: a secured operation that succeeds with
    the token is sent again without it, and with a made-up one, and must refuse
    both with a 401 or 403.
    """
    if case.operation.schema.is_security_param_negated(case):
        return {}
    return bearer(create_token("write"))


# transaction=True: the WSGI application ends each request as in production,
# closing a connection left inside a transaction, which would break the test's own.
@pytest.mark.django_db(transaction=True)
@schema.parametrize()
def test_the_api_keeps_to_its_openapi_document(case):
    # Every check: no 5xx, statuses, content types, headers and bodies as documented,
    # valid input accepted, invalid input rejected, 405 with Allow for other methods,
    # and secured operations refused without a valid token (ignored_auth).
    case.call_and_validate(headers=credentials(case))


# The links of every response: each app's part of the document defines its own.
LINKS = [
    link
    for operations in DOCUMENT["paths"].values()
    for operation in operations.values()
    if isinstance(operation, dict)
    for response in operation.get("responses", {}).values()
    for link in response.get("links", {})
]


# Sequences of calls that follow the document's links: create a note, then read,
# change and delete it, so the operations on one note also meet notes that exist.
# Without an app that defines links (after make remove-example) there is no sequence to follow.
@pytest.mark.skipif(not LINKS, reason="the OpenAPI document defines no links")
@pytest.mark.django_db(transaction=True)
def test_sequences_of_calls_keep_to_the_openapi_document():
    class Workflow(schema.as_state_machine()):
        # Each sequence starts on an empty database, so that Hypothesis, running one again, draws the
        # same calls: what an earlier one left behind would change what lists and links give them.
        def setup(self):
            call_command("flush", interactive=False, verbosity=0)

        def get_call_kwargs(self, case):
            return {"headers": credentials(case)}

        # The headers handed to the checks too, as call_and_validate does, for ignored_auth.
        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(
                response, additional_checks=additional_checks, headers=kwargs["headers"], transport_kwargs=kwargs,
                recorder=self.recorder,
            )  # fmt: skip

    seed(SCHEMATHESIS_SEED)(Workflow).run(settings=settings(max_examples=20, stateful_step_count=6, deadline=None))
