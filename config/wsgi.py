"""WSGI entry point: uWSGI loads `application` from here (see uwsgi.ini)."""

import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

from app.server.logs import set_request_log_vars
from app.server.unread_body import ReadRestOfBody

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

django_application = get_wsgi_application()
json_request_lines = settings.LOG_FORMAT == "json"


def application(environ, start_response):
    # uWSGI sets the scheme to https when *any* client sends
    # "X-Forwarded-Proto: https", and Django would then believe the request
    # came over TLS. The socket is plain HTTP; only a trusted proxy may say
    # otherwise, through SECURE_PROXY_SSL_HEADER (see settings).
    environ["wsgi.url_scheme"] = "http"
    if json_request_lines:
        set_request_log_vars(environ)
    return ReadRestOfBody(django_application(environ, start_response), environ)
