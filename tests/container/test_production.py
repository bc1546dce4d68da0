"""The prod image as a careful operator runs it: graceful, hardened, healthy, small."""

import io
import json
import re
import secrets
import socket
import subprocess
import tarfile
import threading
import time

import pytest
from conftest import docker, dockerfile_base_image, env_args, http, wait_for_http

# Budgets over the base stage's slim Python image, set from what the image achieves with a little headroom.
SIZE_BUDGET_MB = 45
LAYER_BUDGET = 7


def container_state(name, field):
    return docker("inspect", "--format", f"{{{{.State.{field}}}}}", name).stdout.strip()


def stop(name):
    """`docker stop` with its default 10 s grace period; returns the seconds it took."""
    started = time.monotonic()
    docker("stop", name)
    return time.monotonic() - started


def test_health_check_reports_healthy(run_prod, migrated):
    name, _ = run_prod()

    deadline = time.monotonic() + 30
    while (status := container_state(name, "Health.Status")) != "healthy":
        assert status == "starting" and time.monotonic() < deadline, status
        time.sleep(0.5)


def trickled_post(url, note, seconds, answer):
    """POSTs a note whose body arrives in pieces over `seconds`; puts the raw response in answer["raw"]."""
    host, port = url.removeprefix("http://").split(":")
    body = json.dumps(note).encode()
    pieces = [body[i : i + len(body) // 20 + 1] for i in range(0, len(body), len(body) // 20 + 1)]
    with socket.create_connection((host, int(port)), timeout=15) as sock:
        head = "POST /api/notes/ HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        sock.sendall(f"{head}Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode())
        for piece in pieces:
            time.sleep(seconds / len(pieces))
            sock.sendall(piece)
        answer["raw"] = b"".join(iter(lambda: sock.recv(65536), b""))


def test_stop_lets_a_request_whose_body_is_still_arriving_finish(run_prod, migrated):
    name, url = run_prod()
    wait_for_http(f"{url}/healthz")
    title = f"in flight {secrets.token_hex(4)}"
    answer = {}
    client = threading.Thread(target=trickled_post, args=(url, {"title": title, "body": "x" * 4000}, 2.0, answer))
    client.start()
    time.sleep(0.6)  # the request is under way, its body a third sent

    seconds = stop(name)
    client.join(timeout=15)

    status_line = answer.get("raw", b"").split(b"\r\n", 1)[0]
    assert status_line == b"HTTP/1.1 201 Created"
    assert container_state(name, "ExitCode") == "0"
    assert seconds < 8, f"docker stop took {seconds:.1f} s: uWSGI did not exit by itself"
    _, other = run_prod()
    wait_for_http(f"{other}/healthz")
    titles = [note["title"] for note in http("GET", f"{other}/api/notes/?limit=100")[2]["results"]]
    assert title in titles


def test_an_idle_container_stops_quickly_with_exit_code_0(run_prod, migrated):
    name, url = run_prod()
    wait_for_http(f"{url}/healthz")

    seconds = stop(name)

    assert container_state(name, "ExitCode") == "0"
    assert seconds < 3


def test_serves_read_only_without_capabilities_or_privilege_escalation(run_prod, migrated):
    locked_down = ["--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL", "--security-opt", "no-new-privileges"]
    _, url = run_prod(extra_args=locked_down)
    wait_for_http(f"{url}/healthz")

    status, _, note = http("POST", f"{url}/api/notes/", {"title": "written from a read-only container"})

    assert status == 201
    assert http("GET", f"{url}/api/notes/{note['id']}/")[0] == 200


def test_accepts_8_kb_of_request_headers(run_prod, migrated):
    _, url = run_prod()
    wait_for_http(f"{url}/healthz")
    request = f"GET /api/notes/ HTTP/1.1\r\nHost: localhost\r\nCookie: {'c' * 8192}\r\nConnection: close\r\n\r\n"
    host, port = url.removeprefix("http://").split(":")

    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request.encode())
        response = b"".join(iter(lambda: sock.recv(65536), b""))

    assert response.startswith(b"HTTP/1.1 200")


@pytest.mark.parametrize(("trusted", "hsts_expected"), [("false", False), ("true", True)])
def test_x_forwarded_proto_counts_only_from_a_trusted_proxy(run_prod, migrated, trusted, hsts_expected):
    # Django sends HSTS only on requests it believes came over HTTPS.
    _, url = run_prod(extra_args=["-e", f"DJANGO_TRUST_X_FORWARDED_PROTO={trusted}"])
    wait_for_http(f"{url}/healthz")
    host, port = url.removeprefix("http://").split(":")
    request = "GET /api/notes/ HTTP/1.1\r\nHost: localhost\r\nX-Forwarded-Proto: https\r\nConnection: close\r\n\r\n"

    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request.encode())
        response = b"".join(iter(lambda: sock.recv(65536), b"")).decode()

    assert response.startswith("HTTP/1.1 200")
    assert ("Strict-Transport-Security" in response) == hsts_expected


def test_start_up_fails_fast_naming_a_missing_setting(prod_image):
    result = docker("run", "--rm", "-e", "DATABASE_URL=postgres://u:p@db/x", prod_image, check=False, timeout=60)

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stdout + result.stderr


def test_migrations_are_not_run_at_start_up(prod_image, network, database, prod_env):
    name = f"fresh_{secrets.token_hex(4)}"
    database.query(f"CREATE DATABASE {name}")
    env = {**prod_env, "DATABASE_URL": f"postgres://notes:notes@db:5432/{name}"}
    docker("run", "--detach", "--name", name, "--network", network, *env_args(env), prod_image)
    try:
        deadline = time.monotonic() + 30
        while container_state(name, "Health.Status") != "healthy":
            assert time.monotonic() < deadline
            time.sleep(0.5)
        tables = database.pg("psql", "--username=notes", f"--dbname={name}", "-tAc", r"\dt").stdout
        assert tables.strip() == ""
    finally:
        docker("rm", "--force", name, check=False)


def test_check_deploy_passes_with_production_settings(prod_image, prod_env):
    check = ["python", "manage.py", "check", "--deploy", "--fail-level", "WARNING"]

    result = docker("run", "--rm", *env_args(prod_env), prod_image, *check, check=False)

    assert result.returncode == 0, result.stdout + result.stderr


def test_no_setuid_or_setgid_files(prod_image):
    # As root, so that no directory is hidden from the search.
    found = docker(
        "run", "--rm", "--user", "0", prod_image, "find", "/", "-xdev", "-type", "f", "-perm", "/6000"
    ).stdout
    assert found.strip() == ""


def test_code_and_packages_are_not_writable_by_the_app_user(prod_image):
    found = docker("run", "--rm", prod_image, "find", "/app", "/opt/venv", "-writable").stdout
    assert found.strip() == ""
    assert docker("run", "--rm", prod_image, "stat", "-c", "%U", "/app/app/views.py").stdout.strip() == "root"


def test_no_secret_in_image_config_or_history(prod_image):
    config = json.loads(docker("image", "inspect", prod_image).stdout)[0]["Config"]
    history = docker("history", "--no-trunc", "--format", "{{.CreatedBy}}", prod_image).stdout
    names = [variable.split("=", 1)[0] for variable in config["Env"]]

    assert not [name for name in names if re.search("SECRET|PASSWORD|TOKEN|DATABASE_URL", name)]
    assert not re.search(r"(SECRET|PASSWORD|TOKEN)\w*=", history)
    found = docker("run", "--rm", prod_image, "find", "/app", "-name", ".env*", "-o", "-name", "*.pem").stdout
    assert found.strip() == ""


def test_runtime_libraries_resolve_and_psycopg2_uses_the_system_libpq(prod_image):
    script = "find /opt/venv -name '*.so' -exec ldd {} + ; ldd /opt/venv/bin/uwsgi"
    links = docker("run", "--rm", prod_image, "sh", "-c", script).stdout

    assert "not found" not in links
    libpq = re.findall(r"libpq\.so\.5 => (\S+)", links)
    assert libpq and all(path.startswith(("/usr/lib/", "/lib/")) for path in libpq), libpq
    # Compiled against the same libpq major version that the runtime image ships.
    versions = "import psycopg2 as p; print(p.__libpq_version__ // 10000, p.extensions.libpq_version() // 10000)"
    compiled, loaded = docker("run", "--rm", prod_image, "python", "-c", versions).stdout.split()
    package = docker("run", "--rm", prod_image, "dpkg-query", "--showformat=${Version}", "--show", "libpq5").stdout
    assert compiled == loaded == package.split(".")[0]


def test_prod_has_exactly_the_locked_production_packages(prod_image, export_image):
    locked = docker("run", "--rm", export_image, "cat", "requirements.txt").stdout
    expected = {re.split("[=;]", line)[0].lower() for line in locked.splitlines() if line and line[0].isalpha()}
    listing = "import importlib.metadata as m; print('\\n'.join(d.metadata['Name'] for d in m.distributions()))"

    installed = docker("run", "--rm", prod_image, "python", "-c", listing).stdout.lower().split()

    assert sorted(installed) == sorted(expected)


def image_size_and_layers(image):
    size, layers = docker("image", "inspect", "--format", "{{.Size}} {{len .RootFS.Layers}}", image).stdout.split()
    return int(size), int(layers)


def test_prod_stays_within_its_size_and_layer_budget(prod_image):
    size, layers = image_size_and_layers(prod_image)
    base_size, base_layers = image_size_and_layers(dockerfile_base_image("base"))

    added_mb = (size - base_size) / 1e6
    assert added_mb <= SIZE_BUDGET_MB, f"prod adds {added_mb:.1f} MB to {dockerfile_base_image('base')}"
    assert layers - base_layers <= LAYER_BUDGET


def test_worker_processes_and_threads_come_from_the_environment(run_prod, migrated):
    name, url = run_prod(extra_args=["-e", "UWSGI_PROCESSES=3", "-e", "UWSGI_THREADS=2"])
    wait_for_http(f"{url}/healthz")

    workers = re.findall(r"spawned uWSGI worker \d+ \(pid: \d+, cores: (\d+)\)", docker("logs", name).stdout)

    assert workers == ["2", "2", "2"]


def layer_paths(image):
    """The files each layer of the image writes, oldest layer first, from `docker save`."""
    saved = tarfile.open(fileobj=io.BytesIO(subprocess.run(["docker", "save", image], capture_output=True).stdout))
    manifest = json.load(saved.extractfile("manifest.json"))[0]
    layers = []
    for name in manifest["Layers"]:
        with tarfile.open(fileobj=saved.extractfile(name)) as layer:
            layers.append({member.name for member in layer if member.isfile()})
    return layers


def test_no_file_is_written_by_two_of_the_layers_prod_adds(prod_image):
    base_layers = image_size_and_layers(dockerfile_base_image("base"))[1]
    added = layer_paths(prod_image)[base_layers:]
    assert sum(map(len, added)) > 1000, "the venv's files should be among them"

    seen, duplicated = set(), set()
    for paths in added:
        duplicated |= seen & paths
        seen |= paths

    assert not duplicated
