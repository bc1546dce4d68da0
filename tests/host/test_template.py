"""What a team gets when it copies the template: `make init`, .env and its documentation."""

import json
import re
import stat
import subprocess

from helpers import REPO, make


def test_env_example_documents_every_variable_the_service_reads():
    settings = (REPO / "config" / "settings.py").read_text()
    read = set(re.findall(r"(?:env_bool|env_list|env_required|os\.environ\.get)\(\s*\"(\w+)\"", settings))
    read |= set(re.findall(r"^if-not-env = (\w+)", (REPO / "config" / "uwsgi.ini").read_text(), re.MULTILINE))
    documented = set(re.findall(r"^#? ?(\w+)=", (REPO / ".env.example").read_text(), re.MULTILINE))

    assert "DJANGO_SECRET_KEY" in read and "UWSGI_THREADS" in read  # the patterns still find them
    assert read <= documented, f"not in .env.example: {sorted(read - documented)}"


def test_make_init_writes_a_private_env_with_a_fresh_key(repo_copy):
    env = repo_copy / ".env"

    first = make(repo_copy, "init")
    key = secret_key(env)
    env.unlink()
    make(repo_copy, "init")

    assert first.returncode == 0, first.stderr
    assert len(key) >= 50 and secret_key(env) != key
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    # Everything but the key is .env.example's.
    example = (repo_copy / ".env.example").read_text()
    assert env.read_text().replace(secret_key(env), "") == example


def test_make_init_leaves_an_existing_env_alone(repo_copy):
    env = repo_copy / ".env"
    env.write_text("DJANGO_LOG_LEVEL=DEBUG\n")

    result = make(repo_copy, "init")

    assert result.returncode == 0
    assert "left as it is" in result.stdout
    assert env.read_text() == "DJANGO_LOG_LEVEL=DEBUG\n"


def test_compose_gives_the_app_the_env_file_but_keeps_its_own_database(repo_copy):
    (repo_copy / ".env").write_text("DJANGO_LOG_LEVEL=DEBUG\nDATABASE_URL=postgres://elsewhere/db\n")

    config = subprocess.run(
        ["docker", "compose", "config", "--format", "json"], cwd=repo_copy, capture_output=True, text=True, check=True
    ).stdout
    environment = json.loads(config)["services"]["app"]["environment"]

    assert environment["DJANGO_LOG_LEVEL"] == "DEBUG"
    assert environment["DATABASE_URL"] == "postgres://notes:notes@db:5432/notes"


def secret_key(env):
    return re.search(r"^DJANGO_SECRET_KEY=(.*)$", env.read_text(), re.MULTILINE)[1]
