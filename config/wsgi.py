"""WSGI entry point: uWSGI loads `application` from here (see uwsgi.ini)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

django_application = get_wsgi_application()


def application(environ, start_response):
    # uWSGI sets the scheme to https when *any* client sends
    # "X-Forwarded-Proto: https", and Django would then believe the request
    # came over TLS. The socket is plain HTTP; only a trusted proxy may say
    # otherwise, through SECURE_PROXY_SSL_HEADER (see settings).
    environ["wsgi.url_scheme"] = "http"
    return django_application(environ, start_response)
