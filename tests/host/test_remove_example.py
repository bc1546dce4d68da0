"""`make remove-example` leaves the machinery: a service that builds, migrates, serves its probes, passes its tests."""

import json
import os
import re
import subprocess
import sys

from docker_helpers import REPO, docker, make, unique_name

# What names the example in code and configuration, once it is gone.
EXAMPLE_REFERENCE = re.compile(r"app[./]notes|api/notes|tests/(host/)?notes|\bNotes?\b|make_note")
# The host-side tests to run in the copy: some that need routes (the harness's), some that need none.
MACHINERY_HOST_TESTS = [
    "tests/host/test_outage.py",
    "tests/host/test_container_logs.py",
    # The docs, which lose the example's passages, against the copy's tests, targets and configuration.
    "tests/host/test_docs.py",
    "tests/host/test_template.py::test_every_test_the_docs_name_exists",
    "tests/host/test_template.py::test_make_help_lists_every_target_and_the_docs_name_only_targets_that_exist",
]


def test_a_copy_without_the_example_builds_migrates_and_passes_its_tests(repo_copy):
    # A team's copy is a git repository; the script edits the files git tracks.
    subprocess.run(["git", "init", "--quiet"], cwd=repo_copy, check=True)
    subprocess.run(["git", "add", "--all"], cwd=repo_copy, check=True)
    removed = make(repo_copy, "remove-example")
    assert removed.returncode == 0, removed.stderr

    assert not (repo_copy / "app" / "notes").exists()
    assert not (repo_copy / "tests" / "notes").exists() and not (repo_copy / "tests" / "host" / "notes").exists()
    # Code and configuration: bench/ and the docs' measurements describe the example on purpose (README, step 3).
    code = [path for path in repo_copy.rglob("*") if path.is_file() and path.suffix != ".md"]
    code = [path for path in code if ".git" not in path.parts and "bench" not in path.relative_to(repo_copy).parts]
    assert len(code) > 50
    left = [f"{path.relative_to(repo_copy)}: {line.strip()}" for path in code for line in
            path.read_text(errors="replace").splitlines() if EXAMPLE_REFERENCE.search(line)]  # fmt: skip
    assert left == []
    assert "/api/notes/" not in (repo_copy / "README.md").read_text()
    # The tool and its target went with the example; make help still lists every target it has.
    assert not (repo_copy / "scripts" / "host" / "remove_example.py").exists()
    assert "remove-example" not in (repo_copy / "Makefile").read_text()

    image = unique_name("stripped")
    linted = make(repo_copy, "lint", f"LINT_VENV={REPO / '.cache' / 'lint-venv'}", timeout=600)
    assert linted.returncode == 0, linted.stdout[-5000:] + linted.stderr[-5000:]
    try:
        tested = make(repo_copy, "test-app", f"IMAGE={image}", f"TEST_PROJECT={image}", timeout=1800)
        assert tested.returncode == 0, tested.stdout[-5000:] + tested.stderr[-5000:]
        assert re.search(r"\d+ passed", tested.stdout) and " failed" not in tested.stdout
        # Built, migrated and serving its probes: what the host-side tests below start from.
        # The copy's own tests, run by this run's pytest as `make test-host` would run them.
        pytest = [sys.executable, "-m", "pytest", *MACHINERY_HOST_TESTS]
        env = {**os.environ, "IMAGE": image}
        hosted = subprocess.run(pytest, cwd=repo_copy, env=env, capture_output=True, text=True, timeout=1800)
        assert hosted.returncode == 0, hosted.stdout[-5000:] + hosted.stderr[-5000:]
        assert re.search(r"\d+ passed", hosted.stdout) and " skipped" not in hosted.stdout
        document = docker("run", "--rm", f"{image}:dev", "python", "-c", OPENAPI_PATHS).stdout
        assert sorted(json.loads(document)) == ["/api/openapi.json", "/healthz", "/readyz"]
    finally:
        docker("image", "rm", "--force", *(f"{image}:{tag}" for tag in ["prod", "dev", "harness"]), check=False)


# The document the copy serves, as config/urls.py puts it together (the dev image: settings with local defaults).
OPENAPI_PATHS = """
import json, django
django.setup()
from config.urls import OPENAPI_DOCUMENT
print(json.dumps(list(json.loads(OPENAPI_DOCUMENT)["paths"])))
"""
