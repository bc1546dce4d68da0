"""`make lint` passes on the repository, and fails on what each of its checks is there to catch."""

import re
import subprocess

import pytest
from docker_helpers import REPO

# Each case: a file, an edit that introduces one finding, and what the failure says.
FINDINGS = {
    "hadolint": ("Dockerfile", lambda text: text + "RUN cd /tmp\n", "DL3003"),
    # config, which the contract forbids too: it is there with or without the example.
    "import-linter": (
        "app/api/views.py",
        lambda text: text + "from config import settings  # noqa: E402, F401\n",
        "app.api is not allowed to import config",
    ),
    "ruff check": ("app/api/views.py", lambda text: "import os\n" + text, "F401"),
    "ruff format": ("app/api/views.py", lambda text: text + "UNFORMATTED = [1,2]\n", "reformat"),
    "shellcheck": (".ci/run", lambda text: text + "echo $1\n", "SC2086"),
    "zizmor": (".github/workflows/ci.yml", lambda text: re.sub(r"checkout@\w+", "checkout@main", text), "unpinned"),
    "actionlint": (".github/workflows/ci.yml", lambda text: text.replace("runs-on:", "run-on:", 1), "run-on"),
    "dependabot schema": (".github/dependabot.yml", lambda text: text.replace("weekly", "hourly", 1), "hourly"),
    "compose config": ("docker-compose.yml", lambda text: text.replace("ports:", "portz:"), "portz"),
    "pre-commit versions": (
        ".pre-commit-config.yaml",
        lambda text: re.sub(r"ruff==[\d.]+", "ruff==0.0.1", text),
        "must use the same version",
    ),
}


def lint(repo):
    # The repository's own venv of linters, rather than a new one in every copy.
    venv = REPO / ".cache" / "lint-venv"
    result = subprocess.run(
        ["make", "lint", f"LINT_VENV={venv}"], cwd=repo, capture_output=True, text=True, timeout=600
    )
    return result.returncode, result.stdout + result.stderr


def test_passes_on_the_repository_as_it_is(repo_copy):
    status, output = lint(repo_copy)
    assert status == 0, output


@pytest.mark.parametrize("check", FINDINGS)
def test_fails_on_a_finding(repo_copy, check):
    name, edit, expected = FINDINGS[check]
    path = repo_copy / name
    path.write_text(edit(path.read_text()))

    status, output = lint(repo_copy)

    assert status != 0
    assert expected in output, output
