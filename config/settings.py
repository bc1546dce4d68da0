"""Django settings, all read from the environment (https://12factor.net/config).

Every variable the service reads is listed in docs/configuration.md. Production needs
DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS and DATABASE_URL; with DJANGO_DEBUG on,
each has a local-development default.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default=False):
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true/false, yes/no, on/off or 1/0, not {value!r}.")


def env_list(name):
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


def env_required(name, dev_default):
    """The variable's value; with DEBUG off it must be set, so production never runs on a default."""
    value = os.environ.get(name, "").strip()
    if value:
        return value
    if DEBUG:
        return dev_default
    raise ImproperlyConfigured(f"{name} must be set (it may only be left out when DJANGO_DEBUG is on).")


DEBUG = env_bool("DJANGO_DEBUG")

# The "django-insecure-" prefix makes `check --deploy` fail if this key ever reaches production.
SECRET_KEY = env_required("DJANGO_SECRET_KEY", "django-insecure-local-development-only")

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS") or (["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])

# HTTPS. The service runs behind a proxy or load balancer that terminates TLS
# and redirects plain HTTP to HTTPS; the app itself only ever speaks HTTP.
# Off unless that proxy overwrites X-Forwarded-Proto on every request;
# otherwise any client could claim to be on HTTPS.
if env_bool("DJANGO_TRUST_X_FORWARDED_PROTO"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Sent only on requests known to have come over HTTPS (see above).
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
CSRF_COOKIE_SECURE = not DEBUG
# Checks of `manage.py check --deploy` that are deliberately off, and why.
SILENCED_SYSTEM_CHECKS = [
    # SECURE_SSL_REDIRECT: the proxy redirects HTTP to HTTPS, where TLS ends.
    "security.W008",
    # HSTS includeSubDomains and preload bind every subdomain and browsers'
    # preload lists: a decision for the domain's owner, not a template default.
    "security.W005",
    "security.W021",
]

DATABASES = {
    "default": dj_database_url.parse(
        # With DEBUG on and no DATABASE_URL, a SQLite file, so the dev image runs its tests alone.
        env_required("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        # Keep connections open across requests, and test them before reuse so
        # that a restarted database costs one failed check, not a failed request.
        conn_max_age=60,
        conn_health_checks=True,
    )
}
# Deadlines on the database, so that one that is down, hung or slow costs a
# request a few seconds and a 503, never a worker (docs/production.md, Deadlines).
# The total seconds a request may wait for the database, enforced by
# app.database.deadline.DatabaseDeadlineMiddleware in Python, because psycopg2 has no
# timeout of its own: a server that accepts connections but never answers would
# hold the worker until harakiri. Below the API's promise of a 503 within 5 s.
DATABASE_DEADLINE = 4
# The same for /readyz, which promises an answer within 3 s.
DATABASE_READINESS_DEADLINE = 2
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend, with a health check that looks at the connection's
    # socket instead of sending a query on every request (see app/database/postgresql).
    DATABASES["default"]["ENGINE"] = "app.database.postgresql"
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # Connecting gives up after 5 s outside requests too (management commands).
            "connect_timeout": 5,
            # statement_timeout: PostgreSQL itself cancels a statement that runs
            # longer than 3 s. The deadline above only frees the worker; this
            # also frees the server, which would otherwise run an abandoned
            # query to its end, and it keeps the connection usable. It applies
            # to management commands too: a migration that needs longer starts
            # with RunSQL("SET LOCAL statement_timeout = 0").
            "options": "-c statement_timeout=3s",
            # TCP keepalives: a kept-open connection (CONN_MAX_AGE) whose server
            # vanished without closing it (a crashed host, a failover, a dropped
            # network path) is found dead after 10 s idle + 3 probes 5 s apart,
            # and replaced, instead of failing a request later.
            "keepalives": 1,
            "keepalives_idle": 10,
            "keepalives_interval": 5,
            "keepalives_count": 3,
        }
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "app.api",  # the tokens: their model and management commands
    "app.notes",  # example
]

MIDDLEWARE = [
    # First, so that a request's time is all of Django's.
    "app.api.middleware.RequestMetricsMiddleware",
    # Then the deadline, so that it covers every database access of a request.
    "app.database.deadline.DatabaseDeadlineMiddleware",
    # Then the probes, answered before host validation and HTTPS redirects.
    "app.api.middleware.HealthProbeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Every view needs a token unless marked public. Before CsrfViewMiddleware,
    # whose check of a view that is not exempt reads a POST's body: a request
    # without a token is refused before anything reads its body.
    "app.api.auth.TokenAuthenticationMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "app.api.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "config.urls"
# A path without its trailing slash is a JSON 404, not a redirect: clients
# follow a redirected POST with a GET, and the note would be silently lost.
APPEND_SLASH = False
CSRF_FAILURE_VIEW = "app.api.problems.csrf_failure"
WSGI_APPLICATION = "config.wsgi.application"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

# Prometheus metrics (docs/production.md, Metrics): "off" records and serves none. config/uwsgi.ini
# reads the variable as it is written, to start the exporter on port 9100 unless it is "off": hence
# exactly on or off (or unset, or empty: on).
METRICS = os.environ.get("METRICS") or "on"
if METRICS not in {"on", "off"}:
    raise ImproperlyConfigured(f"METRICS must be on or off, not {METRICS!r}.")

# Logs go to stdout, with uWSGI's, where `docker logs` and any container
# platform collect them. LOG_FORMAT=json makes both one JSON object per line
# (uWSGI's request lines: config/uwsgi.ini); text is for people reading them.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "").strip().lower() or "text"
if LOG_FORMAT not in {"text", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be text or json, not {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"format": "%(levelname)s %(name)s: %(message)s"},
        "json": {"()": "app.server.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": LOG_FORMAT},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        # uWSGI logs every request in one line; Django would add a second for
        # each 4xx. Server errors, with their tracebacks, still come through.
        "django.request": {"level": "ERROR"},
    },
}
