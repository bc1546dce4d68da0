"""One JSON shape for every error: RFC 9457 "problem details"."""

from http import HTTPStatus

from django.http import JsonResponse


def problem(status, detail, **extra):
    """A JSON error response: {"type", "title", "status", "detail", ...extra}."""
    body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status, "detail": detail}
    return JsonResponse({**body, **extra}, status=status, content_type="application/problem+json")


def method_not_allowed(method, allowed):
    """The 405 answer, with the Allow header listing the methods the path does support."""
    response = problem(405, f"{method} is not allowed here.")
    response["Allow"] = ", ".join(allowed)
    return response


# Django's error handlers (see config/urls.py), replacing its HTML pages.
def bad_request(request, exception):
    return problem(400, "The request could not be understood.")


def permission_denied(request, exception):
    return problem(403, "You do not have permission to do this.")


# CSRF_FAILURE_VIEW (see settings): the API's views are exempt, but a view added
# later that is not would otherwise answer a failed check with an HTML page.
def csrf_failure(request, reason=""):
    return problem(403, f"The cross-site request forgery check failed: {reason}")


def not_found(request, exception):
    return problem(404, f"Nothing is at {request.path}.")


def server_error(request):
    return problem(500, "The server failed to handle the request; the error has been logged.")
