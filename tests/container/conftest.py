"""Fixtures that build the images and run containers through the docker CLI."""

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
IMAGE = os.environ.get("IMAGE", "notes")


def docker(*args, check=True, timeout=900, **kwargs):
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def build(context, target, tag=None):
    """Builds a target; returns the result, with BuildKit's step-by-step log in .stderr."""
    tag_args = ["--tag", tag] if tag else []
    return docker("build", "--progress=plain", "--target", target, *tag_args, str(context), check=False)


def unique_name(kind):
    return f"{IMAGE}-test-{kind}-{secrets.token_hex(4)}"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http(method, url, body=None, timeout=10):
    """Sends a request; returns (status, headers, parsed JSON body or None)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, headers, raw = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, headers, raw = error.code, error.headers, error.read()
    return status, headers, json.loads(raw) if raw else None


def wait_for_http(url, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return http("GET", url, timeout=2)
        except (urllib.error.URLError, ConnectionError, OSError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.25)


def compose_image(service):
    """The image docker-compose.yml gives a service: where the PostgreSQL tag is written for every local use."""
    config = docker("compose", "--file", str(REPO / "docker-compose.yml"), "config", "--format", "json").stdout
    return json.loads(config)["services"][service]["image"]


def dockerfile_base_image(stage):
    """The image a stage of the Dockerfile is built FROM."""
    return re.search(rf"^FROM (\S+) AS {stage}$", (REPO / "Dockerfile").read_text(), re.MULTILINE)[1]


def build_image(target):
    """Builds a target of the repository's Dockerfile as IMAGE:target; returns that tag."""
    tag = f"{IMAGE}:{target}"
    result = build(REPO, target, tag)
    assert result.returncode == 0, result.stderr
    return tag


@pytest.fixture(scope="session")
def prod_image():
    return build_image("prod")


@pytest.fixture(scope="session")
def dev_image():
    return build_image("dev")


@pytest.fixture(scope="session")
def export_image():
    return build_image("export")


@pytest.fixture
def repo_copy():
    """A copy of the repository's files as a fresh clone has them, to edit freely.

    Kept under .cache (ignored by git and Docker) rather than the system temp
    folder, whose private permissions would hide it from the container's user.
    """
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    copy = REPO / ".cache" / unique_name("repo")
    for name in filter(None, files):
        if (REPO / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, copy / name)
    for path in [copy, *copy.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    yield copy
    shutil.rmtree(copy)


@pytest.fixture(scope="module")
def network():
    name = unique_name("net")
    docker("network", "create", name)
    yield name
    docker("network", "rm", name, check=False)


class Postgres:
    """A real PostgreSQL (docker-compose.yml's image) on a test network, reachable there as host `db`.

    Its first process is a shell that outlives the server, so a test can stop
    PostgreSQL and start it again while the host stays on the network, as when
    a database server restarts or fails over.
    """

    url = "postgres://notes:notes@db:5432/notes"

    def __init__(self, network):
        self.name = unique_name("db")
        credentials = {
            "POSTGRES_USER": "notes",
            "POSTGRES_PASSWORD": "notes",
            "POSTGRES_DB": "notes",
            "POSTGRES_INITDB_ARGS": "--encoding=UTF8",  # as in docker-compose.yml
        }
        network_args = ["--network", network, "--network-alias", "db"]
        server = ["--entrypoint", "sh", compose_image("db")]
        server += ["-c", "docker-entrypoint.sh postgres & exec sleep infinity"]
        docker("run", "--detach", "--name", self.name, *network_args, *env_args(credentials), *server)
        self.wait_until_ready()

    def wait_until_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while self.pg("pg_isready", "--host=127.0.0.1", "--username=notes", check=False).returncode != 0:
            assert time.monotonic() < deadline, docker("logs", self.name).stderr
            time.sleep(0.5)

    def stop(self):
        self.pg("pg_ctl", "stop", "--mode=fast", "--wait")

    def start(self):
        # The log goes to a file: on stdout it would keep `docker exec` waiting.
        self.pg("pg_ctl", "start", "--wait", "--log=/tmp/postgresql.log", "--options=-c listen_addresses=*")
        self.wait_until_ready()

    def query(self, sql):
        """The rows of a query, as lists of strings."""
        output = self.pg("psql", "--username=notes", "--dbname=notes", "--no-align", "--tuples-only", "-c", sql).stdout
        return [line.split("|") for line in output.splitlines()]

    def pg(self, *command, check=True):
        return docker("exec", "--user", "postgres", self.name, *command, check=check)

    def remove(self):
        docker("rm", "--force", "--volumes", self.name, check=False)


@pytest.fixture(scope="module")
def database(network):
    postgres = Postgres(network)
    yield postgres
    postgres.remove()


@pytest.fixture(scope="module")
def database_url(database):
    return database.url


@pytest.fixture(scope="module")
def prod_env(database_url):
    """What an operator sets to run the prod image."""
    return {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "localhost,127.0.0.1",
        "DATABASE_URL": database_url,
    }


def env_args(env):
    return [arg for name, value in env.items() for arg in ("-e", f"{name}={value}")]


@pytest.fixture
def run_prod(prod_image, network, prod_env):
    """Starts prod containers on the test network, port 8000 published on a free loopback port."""
    started = []

    def run(*command, extra_args=()):
        name, port = unique_name("app"), free_port()
        options = ["--detach", "--name", name, "--network", network, "-p", f"127.0.0.1:{port}:8000"]
        docker("run", *options, *env_args(prod_env), *extra_args, prod_image, *command)
        started.append(name)
        return name, f"http://127.0.0.1:{port}"

    yield run
    for name in started:
        docker("rm", "--force", name, check=False)


@pytest.fixture(scope="module")
def migrated(prod_image, network, prod_env):
    """Migrations applied the production way: a one-off run of the prod image."""
    migrate = ["python", "manage.py", "migrate", "--no-input"]
    result = docker("run", "--rm", "--network", network, *env_args(prod_env), prod_image, *migrate)
    assert "Applying app.0001_initial... OK" in result.stdout
