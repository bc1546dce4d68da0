"""What the images contain, and how the Dockerfile builds them."""

import re
import secrets

from conftest import build, docker, dockerfile_base_image

BUILD_TOOLS = ["gcc", "cc", "make", "pip", "pip3", "pipenv", "pytest"]


def test_prod_runs_as_a_numeric_non_root_user(prod_image):
    assert docker("image", "inspect", "--format", "{{.Config.User}}", prod_image).stdout.strip() == "10001:10001"
    assert docker("run", "--rm", prod_image, "id", "-u").stdout.strip() == "10001"


def test_prod_has_no_build_tools_or_test_packages(prod_image):
    # One `command -v` per tool: POSIX sh looks up only the first name it is given.
    lookups = "; ".join(f"command -v {tool}" for tool in BUILD_TOOLS)
    found = docker("run", "--rm", prod_image, "sh", "-c", lookups, check=False).stdout
    assert found.strip() == ""
    for module in ["pip", "pipenv", "pytest", "pytest_django"]:
        result = docker("run", "--rm", prod_image, "python", "-c", f"import {module}", check=False)
        assert "ModuleNotFoundError" in result.stderr, module


def test_prod_has_the_runtime_packages(prod_image):
    result = docker("run", "--rm", prod_image, "python", "-c", "import django, psycopg2; print(django.get_version())")
    assert result.stdout.startswith("6.1")
    assert docker("run", "--rm", prod_image, "uwsgi", "--version").stdout.startswith("2.0.31")


def test_dev_image_runs_the_suite_and_passes(dev_image):
    result = docker("run", "--rm", dev_image, check=False)

    assert result.returncode == 0, result.stdout
    assert re.search(r"\d+ passed", result.stdout)


def test_dev_image_exits_non_zero_when_a_test_fails(dev_image, tmp_path):
    failing = tmp_path / "test_failing.py"
    failing.write_text("def test_fails():\n    assert 1 == 2\n")
    failing.chmod(0o644)
    tmp_path.chmod(0o755)

    result = docker("run", "--rm", "-v", f"{failing}:/app/tests/test_failing.py:ro", dev_image, check=False)

    assert result.returncode == 1
    assert "1 failed" in result.stdout


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
    views = repo_copy / "app" / "views.py"
    # Unique, or BuildKit would find the edited layer in its cache from an earlier run.
    views.write_text(views.read_text() + f"\n# a one-line edit {secrets.token_hex(8)}\n")

    result = build(repo_copy, "prod")

    assert result.returncode == 0, result.stderr
    rebuilt = [step for step, cached in build_steps(result.stderr).items() if not cached]
    assert any(step.endswith("] COPY app app") for step in rebuilt), rebuilt
    assert all(step.startswith("prod ") and "] COPY " in step for step in rebuilt), rebuilt


def test_prod_runs_the_python_version_of_the_base_image_tag(prod_image):
    minor = dockerfile_base_image("base").removeprefix("python:").removesuffix("-slim")

    assert docker("run", "--rm", prod_image, "python", "--version").stdout.startswith(f"Python {minor}.")
