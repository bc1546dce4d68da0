"""The Python minor version, the PostgreSQL major and Pipenv's version agree in every file that states them.

Each tool reads its own file (Docker the FROM lines, Dependabot the tags, Pipenv
the Pipfile, ruff pyproject.toml, GitHub the workflow), so the versions are
written more than once; this test catches a change that misses one of them.
"""

import re
import subprocess
from collections import defaultdict

import pytest
from docker_helpers import REPO

# What each version looks like where it is written: its groups, joined by dots, are the version.
PATTERNS = {
    "Python minor version": [
        r"\bpython:(3\.\d+)",  # image tags: FROM lines, docs
        r"^python_version = \"(3\.\d+)\"",  # Pipfile
        r"\"python_version\": \"(3\.\d+)\"",  # Pipfile.lock
        r"^target-version = \"py(3)(\d+)\"",  # pyproject.toml (ruff): py314
    ],
    "PostgreSQL major version": [r"(?<!@)\bpostgres:(\d+)"],  # not a URL's host:port
    "Pipenv version": [r"PIPENV_VERSION=(\d[\w.]*)", r"\bpipenv==(\d[\w.]*)"],
}
# Files that must state each version, so that the test cannot pass by finding nothing.
REQUIRED = {
    "Python minor version": {"Dockerfile", "Pipfile", "Pipfile.lock", "pyproject.toml", "bench/Dockerfile.naive"},
    "PostgreSQL major version": {"docker-compose.yml", ".github/workflows/ci.yml"},
    "Pipenv version": {"Dockerfile", "bench/Dockerfile.naive"},
}


def tracked_files():
    names = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    for name in filter(None, names.split("\0")):
        path = REPO / name
        if path.is_file() and name != "tests/host/test_versions.py":
            yield name, path.read_text(errors="replace")


def stated_versions(kind, files):
    """{version: [files stating it]} for one kind of version."""
    found = defaultdict(set)
    for name, text in files:
        for pattern in PATTERNS[kind]:
            for match in re.finditer(pattern, text, re.MULTILINE):
                found[".".join(match.groups())].add(name)
    return found


def disagreement(found):
    return "; ".join(f"{version} in {', '.join(sorted(names))}" for version, names in sorted(found.items()))


@pytest.mark.parametrize("kind", PATTERNS)
def test_every_file_states_the_same_version(kind):
    found = stated_versions(kind, list(tracked_files()))

    stating = set().union(*found.values())
    assert REQUIRED[kind] <= stating, f"{kind} not found in {sorted(REQUIRED[kind] - stating)}"
    assert len(found) == 1, f"{kind} disagrees: {disagreement(found)}"
