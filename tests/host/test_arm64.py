"""prod built for linux/arm64 and run under QEMU emulation against a real (amd64) PostgreSQL.

Slow: `make test-arm64` runs these, `make test` leaves them out (docs/release.md).
"""

import pytest
from docker_helpers import (
    IMAGE,
    REPO,
    create_token,
    docker,
    env_args,
    free_port,
    http,
    locked_packages,
    make,
    unique_name,
    wait_for_http,
)

pytestmark = pytest.mark.arm64
ARM64 = ["--platform", "linux/arm64"]


@pytest.fixture(scope="module")
def arm64_image():
    """`make build-arm64`: seconds when BuildKit has it cached, much longer from nothing (docs/release.md)."""
    result = make(REPO, "build-arm64", f"IMAGE={IMAGE}", timeout=3 * 3600)
    assert result.returncode == 0, result.stdout + result.stderr
    return f"{IMAGE}:prod-arm64"


def test_the_image_is_for_arm64_and_runs_aarch64_code(arm64_image):
    assert docker("image", "inspect", "--format", "{{.Os}}/{{.Architecture}}", arm64_image).stdout.strip() == (
        "linux/arm64"
    )
    assert docker("run", "--rm", *ARM64, arm64_image, "uname", "-m").stdout.strip() == "aarch64"
    # uWSGI and psycopg2 were compiled for aarch64 in the builder, and load.
    machine = "import platform, psycopg2; print(platform.machine(), psycopg2.__libpq_version__ > 0)"
    assert docker("run", "--rm", *ARM64, arm64_image, "python", "-c", machine).stdout.split() == ["aarch64", "True"]
    uwsgi = docker("run", "--rm", *ARM64, arm64_image, "uwsgi", "--version").stdout.strip()
    assert uwsgi == locked_packages()["uwsgi"]


def test_migrates_answers_ready_and_stores_a_token(arm64_image, network, prod_env, database):
    migrate = ["python", "manage.py", "migrate", "--no-input"]
    docker("run", "--rm", *ARM64, "--network", network, *env_args(prod_env), arm64_image, *migrate, timeout=1800)

    name, port = unique_name("arm64"), free_port()
    options = ["--detach", "--name", name, "--network", network, "-p", f"127.0.0.1:{port}:8000"]
    docker("run", *ARM64, *options, *env_args(prod_env), arm64_image)
    try:
        url = f"http://127.0.0.1:{port}"
        # Emulated, uWSGI takes several times as long to start.
        wait_for_http(f"{url}/healthz", timeout=180)
        # A query through an emulated worker.
        status, _, body = http("GET", f"{url}/readyz", timeout=30)
        assert (status, body) == (200, {"status": "ok"})

        # A write by the image's own command, through its aarch64 psycopg2.
        token_name = unique_name("token")
        token = create_token(lambda *command: docker("exec", name, *command, timeout=600), name=token_name)
        stored = database.query(f"SELECT scope, prefix FROM api_token WHERE name = '{token_name}'")
        assert stored == [["write", token[:6]]]
    finally:
        docker("rm", "--force", name, check=False)
