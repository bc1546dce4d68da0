"""Where the time of one `GET /api/notes/` goes. `make loadtest` runs it inside the prod image.

It calls the Django application in one process, with no HTTP server, many
times over, against the load test's PostgreSQL, and times the layers of each
request as it runs, by wrapping them:

- database: the queries, from sending each to having its rows (a Django
  execute wrapper), and the connection's health checks;
- JSON: encoding the page (the view's JsonResponse);
- view: the rest of the view: the query string, the ORM, building notes;
- authentication: the token check (app/api/auth.py), its lookup, when the
  worker does not remember the token, counted with the database's;
- metrics: counting and timing the request (app/api/metrics.py), in files as
  in a uWSGI worker (prometheus-client's multiprocess mode);
- Django: the rest of the request: handler, routing, middlewares, signals.

Each layer's own time excludes the layers timed inside it.

The HTTP server's share is what the load test's bare app measures. The
requests send the token in API_TOKEN. Prints JSON.
"""

import io
import json
import os
import sys
import tempfile
import time
import types
from collections import Counter

import django

# The metrics as a uWSGI worker keeps them (config/uwsgi.ini sets the folder). uWSGI's own
# module exists only in its processes; a worker id is all app/api/metrics.py asks of it.
os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp()
sys.modules["uwsgi"] = types.SimpleNamespace(worker_id=lambda: 1)
django.setup()

from django.db import connection  # noqa: E402

from app.api import auth, middleware  # noqa: E402
from app.notes import views  # noqa: E402
from config.wsgi import application  # noqa: E402

REQUESTS = 2000
WARM_UP = 200
# A token the requests send; loadtest.py makes it with createtoken.
TOKEN = os.environ["API_TOKEN"]
# Each layer's total time, the time of the layers timed inside it, its calls; each statement's count.
seconds, inner, calls, statements = Counter(), Counter(), Counter(), Counter()
# The layers being timed now, innermost last.
running = []


def timed(layer, function):
    def wrapper(*args, **kwargs):
        running.append(layer)
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            elapsed = time.perf_counter() - started
            running.pop()
            seconds[layer] += elapsed
            calls[layer] += 1
            if running:
                inner[running[-1]] += elapsed

    return wrapper


def timed_query(execute, sql, params, many, context):
    statements[sql] += 1
    return timed("query", execute)(sql, params, many, context)


def request():
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/api/notes/",
        "QUERY_STRING": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "8000",
        "HTTP_HOST": "localhost",
        "HTTP_AUTHORIZATION": f"Bearer {TOKEN}",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
    }
    statuses = []
    body = b"".join(application(environ, lambda status, headers: statuses.append(status)))
    assert statuses == ["200 OK"], statuses
    return body


def main():
    for _ in range(WARM_UP):  # imports, the connection, caches, the token remembered
        body = request()
    views.NoteCollection.get = timed("view", views.NoteCollection.get)
    views.JsonResponse = timed("json", views.JsonResponse)
    connection.is_usable = timed("check", connection.is_usable)
    auth.check_token = timed("auth", auth.check_token)
    middleware.record_request = timed("metrics", middleware.record_request)
    request_timed = timed("request", request)
    with connection.execute_wrapper(timed_query):
        for _ in range(REQUESTS):
            request_timed()
    ms = {layer: total / REQUESTS * 1000 for layer, total in seconds.items()}
    own = {layer: (total - inner[layer]) / REQUESTS * 1000 for layer, total in seconds.items()}
    layers = {
        "database queries": ms["query"],
        "connection health check": ms["check"],
        "JSON encoding": ms["json"],
        "view (ORM, notes)": own["view"],
        "authentication (token)": own["auth"],
        "metrics (count and latency)": own["metrics"],
        "Django (handler, middlewares, routing)": own["request"],
    }
    result = {
        "requests": REQUESTS,
        "notes_per_page": len(json.loads(body)["results"]),
        "queries_per_request": calls["query"] / REQUESTS,
        "health_checks_per_request": calls["check"] / REQUESTS,
        # Below one: a worker looks a token up again only when it has forgotten it (app/api/auth.py).
        "token_lookups_per_request": sum(n for sql, n in statements.items() if "api_token" in sql) / REQUESTS,
        "total_ms": round(ms["request"], 3),
        "layers_ms": {name: round(value, 3) for name, value in layers.items()},
        "sql": sorted(statements),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
