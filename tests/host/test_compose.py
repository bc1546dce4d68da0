"""The local development stack: `make up` (a bind mount) and `make watch` (Compose Watch), then edit and see."""

import os
import subprocess
import time

import pytest
from docker_helpers import (
    compose_config,
    compose_image,
    create_token,
    docker,
    free_port,
    http,
    unique_name,
    wait_for_http,
)


@pytest.fixture
def stack(repo_copy):
    """The compose stack of a copy of the repository, on a free loopback port."""
    port = free_port()
    compose = ["docker", "compose", "--project-name", unique_name("compose")]
    env = {**os.environ, "APP_PORT": str(port)}

    def run(*args):
        return subprocess.run([*compose, *args], cwd=repo_copy, env=env, capture_output=True, text=True, timeout=600)

    up = run("up", "--build", "--detach", "--wait")
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        yield repo_copy, f"http://127.0.0.1:{port}", run
    finally:
        run("down", "--volumes", "--rmi", "local")  # and the image compose built for this project


def test_up_wait_returns_ready_with_the_database_on_loopback_only(stack):
    _, url, run = stack

    # `up --wait` has returned: no retry loop, /readyz (a query) must answer 200 now.
    status, _, body = http("GET", f"{url}/readyz")
    assert (status, body) == (200, {"status": "ok"})
    # A token written to the stack's PostgreSQL by the app's command, and read back by another.
    name = unique_name("token")
    token = create_token(lambda *command: run("exec", "-T", "app", *command), name=name)
    listed = run("exec", "-T", "app", "python", "manage.py", "listtokens").stdout
    assert listed_tokens(listed)[name] == ("write", token[:6]), listed
    assert run("port", "app", "8000").stdout.strip() == url.removeprefix("http://")


def listed_tokens(listing):
    """{name: (scope, first characters)} from the table `manage.py listtokens` prints."""
    rows = [line.split() for line in listing.splitlines()[1:]]
    return {row[0]: (row[1], row[-1]) for row in rows}


def test_an_edit_is_served_without_a_rebuild(stack):
    repo, url, _ = stack
    problems = repo / "app" / "api" / "problems.py"
    problems.write_text(problems.read_text().replace('f"{method} is not allowed here."', '"Edited while running."'))

    deadline = time.monotonic() + 30
    while served_detail(url) != "Edited while running.":
        assert time.monotonic() < deadline, "the edit was not served within 30 s"
        time.sleep(0.5)


def served_detail(url):
    try:
        return http("DELETE", f"{url}/healthz")[2]["detail"]
    except OSError:  # the server is restarting to load the edit
        return None


@pytest.fixture
def watched(repo_copy):
    """`docker compose watch` of a copy of the repository, on a free loopback port; its output in watch.log."""
    port = free_port()
    compose = ["docker", "compose", "--project-name", unique_name("watch")]
    compose += ["-f", "docker-compose.yml", "-f", "compose.watch.yaml"]
    env = {**os.environ, "APP_PORT": str(port)}
    log = repo_copy / "watch.log"
    with log.open("w") as output:
        watch = subprocess.Popen([*compose, "watch"], cwd=repo_copy, env=env, stdout=output, stderr=output)
    try:
        yield repo_copy, f"http://127.0.0.1:{port}", log
    finally:
        watch.terminate()
        try:
            watch.wait(timeout=30)
        except subprocess.TimeoutExpired:
            watch.kill()
        # --rmi local: the image built for this project, too.
        down = [*compose, "down", "--volumes", "--rmi", "local"]
        subprocess.run(down, cwd=repo_copy, capture_output=True, timeout=300)


def test_an_edit_is_copied_into_the_container_and_served(watched):
    repo, url, log = watched
    # The first start may build the dev image.
    assert wait_for_http(f"{url}/healthz", timeout=600)[0] == 200, log.read_text()
    container = docker("ps", "--quiet", "--filter", f"publish={url.rsplit(':', 1)[1]}").stdout.strip()
    assert docker("inspect", "--format", "{{json .Mounts}}", container).stdout.strip() == "[]"

    problems = repo / "app" / "api" / "problems.py"
    problems.write_text(problems.read_text().replace('f"{method} is not allowed here."', '"Edited while watched."'))

    deadline = time.monotonic() + 60
    while served_detail(url) != "Edited while watched.":
        assert time.monotonic() < deadline, "the edit was not served within 60 s:\n" + log.read_text()
        time.sleep(0.5)


def test_make_down_and_up_keep_the_database(repo_copy):
    """`make up`, `token`, `down` and `manage` as a developer runs them: the named volume keeps PostgreSQL's data."""
    port = free_port()
    env = {**os.environ, "APP_PORT": str(port)}
    database = compose_config(repo_copy)["services"]["db"]["environment"]

    def run(*command):
        return subprocess.run(command, cwd=repo_copy, env=env, capture_output=True, text=True, timeout=600)

    def succeed(*command):
        result = run(*command)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    try:
        succeed("make", "up")
        # As the README has it: TOKEN=$(make --silent token), a write token named dev.
        token = succeed("make", "--silent", "token")
        assert len(token.splitlines()) == 1
        refused = run("make", "--silent", "token")
        assert refused.returncode != 0 and "A token named 'dev' exists already" in refused.stderr
        succeed("make", "down")
        succeed("make", "up")

        # The token, written before the stack went down, read back from PostgreSQL by the app.
        listed = succeed("make", "--silent", "manage", "ARGS=listtokens")
        assert listed_tokens(listed).get("dev") == ("write", token[:6]), listed
        assert http("GET", f"http://127.0.0.1:{port}/readyz")[0] == 200
        sql = "SELECT current_setting('server_version_num')::int / 10000, pg_encoding_to_char(encoding)"
        sql += f" FROM pg_database WHERE datname = '{database['POSTGRES_DB']}'"
        psql = ["psql", f"--username={database['POSTGRES_USER']}", "-tAc", sql]
        server = succeed("docker", "compose", "exec", "db", *psql)
        assert server.split() == [f"{compose_image('db').split(':')[1]}|UTF8"]
    finally:
        run("docker", "compose", "down", "--volumes", "--rmi", "local")
