"""What the service measures for Prometheus: each request by method, route and status, its latency, the database's 503s.

uWSGI runs several worker processes, and a number kept in one worker's memory
would be that worker's share, gone when the worker is recycled. So under
uWSGI prometheus-client runs in its multiprocess mode: config/uwsgi.ini sets
PROMETHEUS_MULTIPROC_DIR, each worker adds to files of its own there, and
app/server/exporter.py, beside the workers, sums them on port 9100. Elsewhere
(the development server, the tests) the numbers stay in the process.
RequestMetricsMiddleware (app/api/middleware.py) records the requests.

Every label has a bounded set of values, or the series Prometheus keeps would
grow without end: the route is the URL pattern, never the path, and a method
outside the standard ones counts as "other".
"""

import os
import re

from prometheus_client import Counter, Histogram, values

from app.database.deadline import DatabaseDeadlineExceeded

if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    import uwsgi  # the module uWSGI gives its own processes, and only them

    # A worker's files are named after its uWSGI worker id (1 to `processes`), not its pid, as
    # prometheus-client would: the worker that replaces a recycled or killed one goes on
    # counting in the same files, from its predecessor's numbers, so the directory holds a
    # file per worker and kind however often workers restart. Ids are never two running
    # processes' at once, which is all prometheus-client asks of them (values.py).
    # Before the metrics below: each takes the class when it is made.
    values.ValueClass = values.MultiProcessValue(uwsgi.worker_id)

# The label of a request no URL pattern matched (a 404 of Django's, a refused host).
UNMATCHED = "unmatched"
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
# A path converter in a route: <int:order_id> or <order_id>.
CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")

LABELS = ["method", "route", "status"]
REQUESTS = Counter("http_requests", "Requests Django answered, by method, route pattern and status.", LABELS)
# prometheus-client's default buckets, 5 ms to 10 s: the API's answers, its 5 s promise and harakiri's 8 s.
DURATION = Histogram("http_request_duration_seconds", "Time from the request to Django's answer.", LABELS)
DATABASE_UNAVAILABLE = Counter(
    "database_unavailable_responses",
    "503s for a database that did not answer in time (deadline) or could not be reached or was lost (error).",
    ["reason"],
)


def route_label(request, unrouted):
    """The URL pattern that answered the request, as OpenAPI writes paths (/api/orders/{order_id}/); else `unrouted`."""
    if request.resolver_match is None:
        return unrouted
    return "/" + CONVERTER.sub(r"{\1}", request.resolver_match.route)


def method_label(method):
    return method if method in METHODS else "other"


def record_request(request, status, seconds, unrouted):
    """Counts and times an answer; `unrouted` is the route label if no URL pattern matched."""
    labels = (method_label(request.method), route_label(request, unrouted), str(status))
    REQUESTS.labels(*labels).inc()
    DURATION.labels(*labels).observe(seconds)


def record_database_unavailable(error):
    """Counts a 503 for one of the database errors of app.api.middleware.DATABASE_UNAVAILABLE."""
    # Django raises its own error, from psycopg2's.
    deadline = isinstance(error.__cause__, DatabaseDeadlineExceeded)
    DATABASE_UNAVAILABLE.labels("deadline" if deadline else "error").inc()
