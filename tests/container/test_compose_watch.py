"""Compose Watch (`make watch`): edits are copied into the container, not mounted."""

import os
import subprocess
import time

import pytest
from conftest import docker, free_port, unique_name, wait_for_http
from test_compose import served_detail


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
