import logging
import time

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import JsonResponse

from app.api.metrics import UNMATCHED, record_database_unavailable, record_request
from app.api.problems import method_not_allowed, problem
from app.database.deadline import database_deadline

logger = logging.getLogger(__name__)
PROBES = {"/healthz", "/readyz"}


class RequestMetricsMiddleware:
    """Counts and times every request Django answers, for Prometheus (app/api/metrics.py).

    First in MIDDLEWARE, so that the time is the whole of Django's, every other
    middleware's included. METRICS=off leaves it out.
    """

    def __init__(self, get_response):
        if settings.METRICS == "off":
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        # The probes answer before any URL pattern is matched: each path is a route of its own.
        unrouted = request.path if request.path in PROBES else UNMATCHED
        record_request(request, response.status_code, time.perf_counter() - started, unrouted)
        return response


class HealthProbeMiddleware:
    """Answers the container platform's probes.

    It runs before host validation, because probes address the container by
    its IP or as localhost, which ALLOWED_HOSTS rightly does not list.
    /healthz is liveness: the process serves requests, so it must not depend on
    the database (a database outage must not get every container restarted).
    /readyz is readiness: this container can do useful work right now.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path not in PROBES:
            return self.get_response(request)
        if request.method not in {"GET", "HEAD"}:
            return method_not_allowed(request.method, ["GET", "HEAD"])
        if request.path == "/readyz":
            try:
                with database_deadline(settings.DATABASE_READINESS_DEADLINE), connection.cursor() as cursor:
                    cursor.execute("SELECT 1")
            except DatabaseError as error:
                logger.warning("readiness check failed: %s", error)
                record_database_unavailable(error)
                return problem(503, "The database is unreachable or not answering.")
        return JsonResponse({"status": "ok"})


# The errors of a database that is lost or not answering (a deadline passed included), not of a bug.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)


def database_unavailable(error):
    """The 503 a client may retry, for one of the DATABASE_UNAVAILABLE errors."""
    logger.warning("database unavailable: %s", error)
    record_database_unavailable(error)
    return problem(503, "The database is unreachable or not answering; try again shortly.")


class DatabaseUnavailableMiddleware:
    """Turns a lost or unresponsive database into a 503 the client may retry, instead of a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, DATABASE_UNAVAILABLE):
            return database_unavailable(exception)
        return None
