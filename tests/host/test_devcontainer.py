"""The dev container (.devcontainer/), brought up by the devcontainer CLI as VS Code and Codespaces bring it up."""

import json
import os
import pwd
import subprocess

import pytest
from docker_helpers import docker


@pytest.fixture(params=["the test's user", "nobody"])
def owner(request, repo_copy):
    """Who owns the checkout and starts the dev container: (uid, gid, command prefix, environment).

    CI runs as root, whose uid the container may take on without a care; `nobody`
    stands in for a developer's unprivileged uid, which has no home in the image.
    """
    # As an editor starts it: without the HOST_UID and HOST_GID that make exports to this test.
    env = {name: value for name, value in os.environ.items() if name not in {"HOST_UID", "HOST_GID"}}
    if request.param == "the test's user":
        return os.getuid(), os.getgid(), [], env
    if os.getuid() != 0:
        pytest.skip("only root can start it as another user; the test's own user is not root, and is tested")
    home = repo_copy / ".cache" / "home"  # for docker's and the CLI's files: nobody's own does not exist
    home.mkdir(parents=True)
    nobody = pwd.getpwnam("nobody")
    for path in [repo_copy, *repo_copy.rglob("*")]:
        os.chown(path, nobody.pw_uid, nobody.pw_gid)
    # Docker's socket is open to its group only, as to a developer in the docker group.
    socket = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock").removeprefix("unix://")
    groups = f"--groups={os.stat(socket).st_gid}"
    prefix = ["setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}", groups]
    return nobody.pw_uid, nobody.pw_gid, prefix, {**env, "HOME": str(home)}


@pytest.fixture
def devcontainer(repo_copy, owner):
    """`devcontainer up` on a copy of the repository; yields the copy and a function that runs a command inside."""
    # `make test-host` installs the CLI at the version the Makefile pins, and says where.
    cli = os.environ.get("DEVCONTAINER_CLI")
    assert cli, "DEVCONTAINER_CLI is not set: run this through `make test-host`, which installs the CLI"
    _, _, prefix, env = owner
    # The CLI's own files (its compose override files) in the copy, away from other runs'.
    options = ["--workspace-folder", str(repo_copy), "--user-data-folder", str(repo_copy / ".cache" / "cli")]

    def run(*args):
        return subprocess.run([*prefix, cli, *args], env=env, capture_output=True, text=True, timeout=900)

    # initialize.sh names the compose project after the checkout's folder, which is unique here.
    projects = {f"{repo_copy.name}-devcontainer"}
    try:
        up = run("up", *options)
        assert up.returncode == 0, up.stdout + up.stderr[-5000:]
        outcome = json.loads(up.stdout.splitlines()[-1])
        projects.add(outcome["composeProjectName"])
        yield repo_copy, outcome, lambda *command: run("exec", *options, *command)
    finally:
        for project in projects:
            # --rmi local: the image the CLI had compose build for this project, too.
            docker(
                "compose", "--project-name", project, "down", "--volumes", "--rmi", "local", check=False, cwd=repo_copy
            )


def test_the_dev_container_runs_the_tests_against_postgresql_in_the_checkout_as_its_owner(devcontainer, owner):
    repo, outcome, run = devcontainer
    # Its own project: `make up`'s is named after the folder alone.
    assert outcome["composeProjectName"] == f"{repo.name}-devcontainer"
    assert outcome["remoteWorkspaceFolder"] == "/app"

    # The postStartCommand migrated the compose database, which the app's settings point at.
    migrated = run("python", "manage.py", "migrate", "--check")
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    database = (
        "import django; django.setup(); from django.db import connection as c; print(c.vendor, c.settings_dict['HOST'])"
    )
    assert run("python", "-c", database).stdout.split() == ["postgresql", "db"]

    # In the workspace folder, so `pytest` finds the checkout's tests; pytest-django
    # creates its test database on that PostgreSQL.
    tested = run("pytest", "-q")
    assert tested.returncode == 0, tested.stdout[-5000:] + tested.stderr[-5000:]
    assert " passed" in tested.stdout.splitlines()[-1]

    # Relative to the workspace folder: the file must land in the checkout, and be its owner's.
    written = run("sh", "-c", "echo written in the dev container >written-in-container")
    assert written.returncode == 0, written.stderr
    written = (repo / "written-in-container").stat()
    assert (written.st_uid, written.st_gid) == owner[:2]
