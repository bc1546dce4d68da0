"""A bare WSGI hello-world: the ceiling that `make loadtest` compares the API against."""

BODY = b'{"hello": "world"}'


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))])
    return [BODY]
