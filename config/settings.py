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
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Fail fast when the database is unreachable instead of hanging a worker.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = ["app.notes"]

MIDDLEWARE = [
    # First, so that probes answer before host validation and HTTPS redirects.
    "app.api.middleware.HealthProbeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
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

# Logs go to stdout, with uWSGI's, where `docker logs` and any container platform collect them.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
}
