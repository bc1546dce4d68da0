"""Start-up with each kind of bad configuration, in a fresh process, as a container would start."""

import os
import subprocess
import sys

import pytest

PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "a-test-key-that-is-long-enough-to-look-random-0123456789",
    "DJANGO_ALLOWED_HOSTS": "api.example.com, www.example.com",
    "DATABASE_URL": "postgres://user:pass@db.example.com:5432/service",
}


def load_settings(env, expression="settings.DEBUG"):
    """Evaluates `expression` after loading config.settings with exactly this environment."""
    clean = {name: value for name, value in os.environ.items() if not name.startswith(("DJANGO_", "DATABASE_"))}
    script = f"from django.conf import settings; print(repr({expression}))"
    return subprocess.run(
        [sys.executable, "-c", script],
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_production_settings_load():
    expression = "(settings.DEBUG, settings.ALLOWED_HOSTS, settings.DATABASES['default']['HOST'])"

    result = load_settings(PRODUCTION, expression)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(False, ['api.example.com', 'www.example.com'], 'db.example.com')"


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "DATABASE_URL"])
def test_start_up_fails_naming_a_missing_production_setting(missing):
    env = {name: value for name, value in PRODUCTION.items() if name != missing}

    result = load_settings(env)

    assert result.returncode != 0
    assert f"ImproperlyConfigured: {missing} must be set" in result.stderr


def test_debug_is_off_by_default():
    env = {name: value for name, value in PRODUCTION.items() if name != "DJANGO_DEBUG"}

    assert load_settings(env).stdout.strip() == "False"


def test_debug_mode_runs_without_production_settings():
    result = load_settings({"DJANGO_DEBUG": "true"}, "(settings.DEBUG, settings.DATABASES['default']['ENGINE'])")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(True, 'django.db.backends.sqlite3')"


def test_unrecognised_boolean_is_an_error_naming_the_variable():
    result = load_settings({**PRODUCTION, "DJANGO_DEBUG": "maybe"})

    assert result.returncode != 0
    assert "DJANGO_DEBUG must be true/false" in result.stderr


def test_postgres_connections_persist_with_health_checks_timeouts_and_keepalives():
    result = load_settings(PRODUCTION, "settings.DATABASES['default']")

    database = eval(result.stdout)  # the repr of a dict of plain values
    assert database["ENGINE"] == "app.database.postgresql"  # Django's, with a health check without a query
    assert database["CONN_MAX_AGE"] > 0
    assert database["CONN_HEALTH_CHECKS"] is True
    assert database["OPTIONS"]["connect_timeout"] == 5
    # The server-side half of the deadlines (the client-side half: app/deadline.py).
    assert database["OPTIONS"]["options"] == "-c statement_timeout=3s"
    assert database["OPTIONS"]["keepalives"] == 1


@pytest.mark.parametrize("value", ["", "text", "JSON"])
def test_log_format_is_text_or_json(value):
    result = load_settings({**PRODUCTION, "LOG_FORMAT": value}, "settings.LOG_FORMAT")

    assert result.stdout.strip() == repr(value.lower() or "text")


def test_an_unknown_log_format_is_an_error_naming_the_variable():
    result = load_settings({**PRODUCTION, "LOG_FORMAT": "xml"})

    assert result.returncode != 0
    assert "LOG_FORMAT must be text or json, not 'xml'" in result.stderr


@pytest.mark.parametrize("value", ["", "on", "off"])
def test_metrics_are_on_or_off(value):
    result = load_settings({**PRODUCTION, "METRICS": value}, "settings.METRICS")

    assert result.stdout.strip() == repr(value or "on")


# Exactly as written: config/uwsgi.ini starts the exporter unless METRICS is the very string "off".
@pytest.mark.parametrize("value", ["OFF", "false"])
def test_any_other_metrics_value_is_an_error_naming_the_variable(value):
    result = load_settings({**PRODUCTION, "METRICS": value})

    assert result.returncode != 0
    assert f"METRICS must be on or off, not {value!r}" in result.stderr
