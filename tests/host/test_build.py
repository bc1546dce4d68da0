"""How the Dockerfile builds: a stale lock file stops it, and a source edit rebuilds only the source layers."""

import re
import secrets

from docker_helpers import build


def test_build_fails_when_the_lock_file_is_stale(repo_copy):
    pipfile = repo_copy / "Pipfile"
    pipfile.write_text(pipfile.read_text().replace("[packages]\n", '[packages]\nsix = "*"\n'))

    result = build(repo_copy, "export")

    assert result.returncode != 0
    assert "Pipfile.lock is out-of-date" in result.stderr


def build_steps(log):
    """{step: was it cached} for each Dockerfile instruction in a BuildKit plain log."""
    names = dict(re.findall(r"^#(\d+) \[([\w-]+ \d+/\d+\] .*)$", log, re.MULTILINE))
    cached = set(re.findall(r"^#(\d+) CACHED$", log, re.MULTILINE))
    return {name: number in cached for number, name in names.items() if "] FROM " not in name}


def test_source_edit_rebuilds_only_the_source_layers(repo_copy):
    assert build(repo_copy, "prod").returncode == 0
    views = repo_copy / "app" / "api" / "views.py"
    # Unique, or BuildKit would find the edited layer in its cache from an earlier run.
    views.write_text(views.read_text() + f"\n# a one-line edit {secrets.token_hex(8)}\n")

    result = build(repo_copy, "prod")

    assert result.returncode == 0, result.stderr
    rebuilt = [step for step, cached in build_steps(result.stderr).items() if not cached]
    assert rebuilt, "the edited file reached no layer"
    assert all(step.startswith("prod ") and "] COPY " in step for step in rebuilt), rebuilt
