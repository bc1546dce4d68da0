"""What the host-side tests and bench/ share: docker, HTTP, copies of the repository, PostgreSQL.

Plain functions without pytest, so that bench/ imports them too; the fixtures
built on them are in conftest.py. Test modules import from here, never from
each other or from conftest.
"""

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

REPO = Path(__file__).resolve().parents[2]
# The Makefile's image name unless make hands one down: the project's name is written once, there.
IMAGE = os.environ.get("IMAGE") or re.search(r"^IMAGE \?= (\S+)$", (REPO / "Makefile").read_text(), re.MULTILINE)[1]
UWSGI_INI = (REPO / "config" / "uwsgi.ini").read_text()


def uwsgi_option(name):
    """The value config/uwsgi.ini gives an option first: tests hold the server to its own settings."""
    return re.search(rf"^{re.escape(name)} = (.+)$", UWSGI_INI, re.MULTILINE)[1]


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


# What docs/api.md promises a client while the database is unreachable or hangs: a 503 within
# so many seconds, /readyz within fewer. Read from its error table, so that the tests hold the
# service to the promise as written.
PROMISE = re.search(r"\| 503 within (\d+) s \(`/readyz` within (\d+) s\)", (REPO / "docs" / "api.md").read_text())
DATABASE_UNAVAILABLE_WITHIN = int(PROMISE[1]), int(PROMISE[2])


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http(method, url, body=None, timeout=10, headers=None, token=None):
    """Sends a request, with the API token if one is given; returns (status, headers, parsed JSON body or None)."""
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json", **(headers or {})}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, headers, raw = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, headers, raw = error.code, error.headers, error.read()
    return status, headers, json.loads(raw) if raw else None


def raw_exchange(url, data, timeout=10):
    """Sends `data` (bytes) as it is over a new connection; returns (all that arrived, whether it ended in a reset).

    It reads until the server closes, which it does after its answer only when
    asked to (`Connection: close` in `data`) or when it cannot go on. What
    arrived before a reset is kept: "answered, then reset" is not "no answer".
    """
    host, port = url.removeprefix("http://").split(":")
    received = []
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(data)
        try:
            while chunk := sock.recv(65536):
                received.append(chunk)
        except ConnectionResetError:
            return b"".join(received), True
    return b"".join(received), False


def raw_request(url, data, timeout=10):
    """What raw_exchange received, b"" if nothing, for callers to whom a reset is one way of closing."""
    return raw_exchange(url, data, timeout)[0]


def wait_for_http(url, timeout=30, interval=0.05, token=None):
    """Polls url every interval seconds until it answers at all; returns what http() returns."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return http("GET", url, timeout=2, token=token)
        except (urllib.error.URLError, ConnectionError, OSError):
            if time.monotonic() > deadline:
                raise
            # Often: bench/ measures start-up times with this.
            time.sleep(interval)


def tcp_sockets(container):
    """A container's IPv4 TCP sockets as (local port, state, rx_queue), from /proc/net/tcp in its network namespace.

    Read by a second container of the same image in that namespace, so it
    works while the container is paused. States are the kernel's: "01"
    established, "0A" listening. A listening socket's rx_queue is the number of
    connections waiting for accept(); an established one's, the bytes its
    process has not read yet.
    """
    image = docker("inspect", "--format", "{{.Config.Image}}", container).stdout.strip()
    table = docker("run", "--rm", "--network", f"container:{container}", image, "cat", "/proc/net/tcp").stdout
    sockets = [line.split() for line in table.splitlines()[1:]]
    return [(int(local[-4:], 16), state, int(queues.split(":")[1], 16)) for _, local, _, state, queues, *_ in sockets]


def root_mount_options(run):
    """The options of the mount at / (ro or rw among them) in a container, from its /proc/self/mountinfo.

    `run(*command)` runs a command in the container and returns its
    CompletedProcess (`docker exec`, `podman exec`). The last mount at / is
    the one its processes see; the options are the mount's own (field 6).
    """
    mountinfo = run("cat", "/proc/self/mountinfo").stdout
    roots = [line.split() for line in mountinfo.splitlines() if line.split()[4] == "/"]
    assert roots, mountinfo
    return set(roots[-1][5].split(","))


def build_wrk_image(tag):
    """wrk, the HTTP load generator, from Debian's packages (bench/wrk.Dockerfile); returns the tag."""
    docker("build", "--quiet", "--file", str(REPO / "bench" / "wrk.Dockerfile"), "--tag", tag, str(REPO / "bench"))
    return tag


def wrk_failures(output):
    """What wrk counted as failed: socket errors of each kind, and answers that were not 2xx or 3xx."""
    kinds = ("connect", "read", "write", "timeout")
    found = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    failures = dict(zip(kinds, map(int, found.groups()), strict=True)) if found else dict.fromkeys(kinds, 0)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    failures["non_2xx"] = int(non_2xx[1]) if non_2xx else 0
    return failures


def create_token(run, scope="write", name=None):
    """A new API token, made as an operator makes one: `manage.py createtoken`, whose last line of output it is.

    `run(*command)` runs a command where the app's settings are and returns its
    CompletedProcess: a one-off `docker run` of the prod image (conftest's
    `one_off`), `docker exec` into a running container, `docker compose exec`, podman.
    """
    result = run("python", "manage.py", "createtoken", name or unique_name("token"), "--scope", scope)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.splitlines()[-1]


def locked_packages():
    """{name: version} of each production (default) package in Pipfile.lock, names normalized as in package URLs."""
    packages = json.loads((REPO / "Pipfile.lock").read_text())["default"].items()
    return {normalized_name(name): lock["version"].removeprefix("==") for name, lock in packages}


def normalized_name(name):
    """A Python package's name as PEP 503 compares them: lower case, runs of -_. as one -."""
    return re.sub(r"[-_.]+", "-", name).lower()


# The last lines uWSGI writes as it starts, in either order.
UWSGI_STARTED = ["spawned uWSGI http 1", "(master-start)"]


# From a request's answer to its log line: the worker writes it, the master passes it on.
LOG_WRITTEN_WITHIN = 5


def logs_since(name, since=0):
    """The container's log lines (stdout and stderr) written after the time `since` (time.time())."""
    result = docker("logs", "--since", f"{since:.3f}", name)
    return (result.stdout + result.stderr).splitlines()


def logs_once(name, written, since=0):
    """The container's log lines since `since`, as soon as `written(lines)` holds of them."""
    deadline = time.monotonic() + LOG_WRITTEN_WITHIN
    while not written(lines := logs_since(name, since)):
        assert time.monotonic() < deadline, f"not logged within {LOG_WRITTEN_WITHIN} s: {lines}"
        time.sleep(0.1)
    return lines


def wait_until_started(name, url, timeout=30):
    """Waits until the container answers and uWSGI has written the last of its start-up lines."""
    wait_for_http(f"{url}/healthz")
    deadline = time.monotonic() + timeout
    while not all(line in docker("logs", name).stdout for line in UWSGI_STARTED):
        assert time.monotonic() < deadline, "uWSGI did not finish starting"
        time.sleep(0.2)


def compose_config(repo=REPO):
    """The compose file of this repository or a copy, as `docker compose config` resolves it (.env included)."""
    return json.loads(docker("compose", "--project-directory", str(repo), "config", "--format", "json").stdout)


def wait_until_ready(url, timeout=30):
    """Polls /readyz until it answers 200, failing after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while http("GET", f"{url}/readyz")[0] != 200:
        assert time.monotonic() < deadline, f"not ready within {timeout} s"
        time.sleep(0.5)


def compose_image(service):
    """The image docker-compose.yml gives a service: where the PostgreSQL tag is written for every local use."""
    return compose_config()["services"][service]["image"]


def dockerfile_base_image(stage):
    """The image a stage of the Dockerfile is built FROM."""
    return re.search(rf"^FROM (\S+) AS {stage}$", (REPO / "Dockerfile").read_text(), re.MULTILINE)[1]


def build_image(target):
    """Builds a target of the repository's Dockerfile as IMAGE:target; returns that tag."""
    tag = f"{IMAGE}:{target}"
    result = build(REPO, target, tag)
    assert result.returncode == 0, result.stderr
    return tag


def build_harness_image(prod_image):
    """Builds tests/host/harness.Dockerfile on a prod image as IMAGE:harness; returns that tag."""
    tag = f"{IMAGE}:harness"
    dockerfile = REPO / "tests/host/harness.Dockerfile"
    command = ["build", "--quiet", "--build-arg", f"PROD_IMAGE={prod_image}", "-f", str(dockerfile), "-t", tag]
    result = docker(*command, str(REPO / "tests/harness"), check=False)
    assert result.returncode == 0, result.stderr
    return tag


def copy_repository(name):
    """A copy of the repository's files as a fresh clone has them, at .cache/<name>, to edit freely.

    Under .cache (ignored by git and Docker) rather than the system temp
    folder, whose private permissions would hide it from the container's user.
    """
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    copy = REPO / ".cache" / name
    for path in filter(None, files):
        if (REPO / path).is_file():
            (copy / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / path, copy / path)
    for path in [copy, *copy.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return copy


# What `make test-host IMAGE=... PYTEST_ARGS=...` hands down, in the environment, to every make below it.
OUTER_MAKE_VARIABLES = {"IMAGE", "PYTEST_ARGS", "TEST_PROJECT", "MAKEFLAGS", "MFLAGS", "MAKELEVEL"}


def make(repo, *args, timeout=300):
    """Runs make in a copy of the repository as a make of its own, with the defaults of the copy's Makefile."""
    env = {name: value for name, value in os.environ.items() if name not in OUTER_MAKE_VARIABLES}
    return subprocess.run(["make", *args], cwd=repo, env=env, capture_output=True, text=True, timeout=timeout)


def local_database():
    """docker-compose.yml's database, where its name and credentials are written once: (its environment, the URL)."""
    services = compose_config()["services"]
    return services["db"]["environment"], services["app"]["environment"]["DATABASE_URL"]


class Postgres:
    """A real PostgreSQL (docker-compose.yml's image) on a test network, reachable there as host `db`.

    Its first process is a shell that outlives the server, so a test can stop
    PostgreSQL and start it again while the host stays on the network, as when
    a database server restarts or fails over.
    """

    def __init__(self, network, tls=False):
        self.name = unique_name("db")
        self.environment, self.url = local_database()
        self.user, self.dbname = self.environment["POSTGRES_USER"], self.environment["POSTGRES_DB"]
        self.tls_options = ""
        if tls:
            # The image's own self-signed certificate (Debian's ssl-cert, which the
            # postgres user may read): what is tested is encryption, not trust.
            self.url += "?sslmode=require"
            self.tls_options = "-c ssl=on -c ssl_cert_file=/etc/ssl/certs/ssl-cert-snakeoil.pem"
            self.tls_options += " -c ssl_key_file=/etc/ssl/private/ssl-cert-snakeoil.key"
        network_args = ["--network", network, "--network-alias", "db"]
        server = ["--entrypoint", "sh", compose_image("db")]
        server += ["-c", f"docker-entrypoint.sh postgres {self.tls_options} & exec sleep infinity"]
        docker("run", "--detach", "--name", self.name, *network_args, *env_args(self.environment), *server)
        self.wait_until_ready()

    def wait_until_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while self.pg("pg_isready", "--host=127.0.0.1", f"--username={self.user}", check=False).returncode != 0:
            assert time.monotonic() < deadline, docker("logs", self.name).stderr
            time.sleep(0.5)

    def stop(self, mode="fast"):
        """Stops the server: "fast" as a shutdown does, "immediate" as a crash leaves it (recovery at the start)."""
        self.pg("pg_ctl", "stop", f"--mode={mode}", "--wait")

    def start(self):
        # The log goes to a file: on stdout it would keep `docker exec` waiting.
        self.pg(
            "pg_ctl",
            "start",
            "--wait",
            "--log=/tmp/postgresql.log",
            f"--options=-c listen_addresses=* {self.tls_options}",
        )
        self.wait_until_ready()

    def query(self, sql):
        """The rows of a query, as lists of strings."""
        psql = ["psql", f"--username={self.user}", f"--dbname={self.dbname}", "--no-align", "--tuples-only"]
        output = self.pg(*psql, "-c", sql).stdout
        return [line.split("|") for line in output.splitlines()]

    def pg(self, *command, check=True):
        return docker("exec", "--user", "postgres", self.name, *command, check=check)

    def remove(self):
        docker("rm", "--force", "--volumes", self.name, check=False)


def env_args(env):
    return [arg for name, value in env.items() for arg in ("-e", f"{name}={value}")]


def statement_logger(database):
    """Turns on statement logging for the app's sessions opened from now on; returns a function of `send`.

    That function returns what `send()` returns, and the statements PostgreSQL
    received meanwhile, as its log has them: counted by the server, so that
    everything a request costs is seen (a connection's health check, a token's
    lookup), not only what Django's tools count.
    """
    database.query("ALTER ROLE CURRENT_USER SET log_statement = 'all'")

    def statements_during(send):
        start, end = f"start {secrets.token_hex(4)}", f"end {secrets.token_hex(4)}"
        database.query(f"SELECT '{start}'")
        answer = send()
        database.query(f"SELECT '{end}'")
        deadline = time.monotonic() + 10
        while end not in (log := docker("logs", database.name).stderr):
            assert time.monotonic() < deadline, "PostgreSQL did not log the end marker"
            time.sleep(0.1)
        between = log.split(start, 1)[1].split(end, 1)[0].splitlines()
        statements = [line.split("statement: ", 1)[1] for line in between if "statement: " in line]
        return answer, statements[:-1]  # the last is the marker query itself

    return statements_during


def harness_records(database):
    """The ids of the rows the harness's POSTs wrote (tests/harness/views.py): harness-... in the tokens' table."""
    return {int(row_id) for (row_id,) in database.query("SELECT id FROM api_token WHERE name LIKE 'harness-%'")}
