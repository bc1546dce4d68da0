import logging

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import JsonResponse

from app.api.problems import method_not_allowed, problem
from app.database.deadline import database_deadline

logger = logging.getLogger(__name__)


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
        if request.path not in {"/healthz", "/readyz"}:
            return self.get_response(request)
        if request.method not in {"GET", "HEAD"}:
            return method_not_allowed(request.method, ["GET", "HEAD"])
        if request.path == "/readyz":
            try:
                with database_deadline(settings.DATABASE_READINESS_DEADLINE), connection.cursor() as cursor:
                    cursor.execute("SELECT 1")
            except DatabaseError as error:
                logger.warning("readiness check failed: %s", error)
                return problem(503, "The database is unreachable or not answering.")
        return JsonResponse({"status": "ok"})


# The errors of a database that is lost or not answering (a deadline passed included), not of a bug.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)


def database_unavailable(error):
    """The 503 a client may retry, for one of the DATABASE_UNAVAILABLE errors."""
    logger.warning("database unavailable: %s", error)
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
