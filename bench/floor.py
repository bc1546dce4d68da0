"""The bare-Django floor of `make loadtest`: one note read by primary key, returned with JsonResponse.

What TechEmpower's Django entry does for its "single query" test, with this
repository's Note: Django's own PostgreSQL backend and no middleware, so no
token, deadline, metrics, problem responses or security headers. Settings,
URLs and the WSGI application in one module, which loadtest.py mounts and
serves with the same uWSGI as the API (`--module floor:application`). Never
shipped: the prod image's URLs do not include it.
"""

import os

import dj_database_url
from django.core.wsgi import get_wsgi_application
from django.http import JsonResponse
from django.urls import path

os.environ["DJANGO_SETTINGS_MODULE"] = "floor"

SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
ALLOWED_HOSTS = ["*"]
# Connections kept open across requests, as the project's settings do; no health checks, no deadline.
DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60)}
INSTALLED_APPS = ["app.notes"]
MIDDLEWARE = []
ROOT_URLCONF = "floor"
USE_TZ = True

application = get_wsgi_application()

# Models can be imported only once Django is set up, above.
from app.notes.models import Note  # noqa: E402


def note(request, note_id):
    response = JsonResponse(Note.objects.get(pk=note_id).as_json())
    # CommonMiddleware sets it for the API. Without it uWSGI's router sends the answer chunked, and on a
    # kept-alive connection its last chunk waits for the client's delayed ACK (docs/production.md).
    response["Content-Length"] = len(response.content)
    return response


urlpatterns = [
    path("api/notes/<int:note_id>/", note),
    # What loadtest.py waits for before it measures a server.
    path("healthz", lambda request: JsonResponse({"status": "ok"})),
]
