"""Fixtures that build the images and run containers, on the helpers in docker_helpers.py."""

import secrets
import shutil

import pytest
from docker_helpers import (
    Postgres,
    build_harness_image,
    build_image,
    copy_repository,
    create_token,
    docker,
    env_args,
    free_port,
    statement_logger,
    unique_name,
)


@pytest.fixture(scope="session")
def prod_image():
    return build_image("prod")


@pytest.fixture(scope="session")
def dev_image():
    return build_image("dev")


@pytest.fixture
def repo_copy():
    """A copy of the repository, removed afterwards (see copy_repository)."""
    copy = copy_repository(unique_name("repo"))
    yield copy
    shutil.rmtree(copy)


@pytest.fixture(scope="module")
def network():
    name = unique_name("net")
    docker("network", "create", name)
    yield name
    docker("network", "rm", name, check=False)


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


@pytest.fixture(scope="session")
def harness_image(prod_image):
    """The prod image with tests/harness's routes, which the machinery's tests call instead of the example's."""
    return build_harness_image(prod_image)


@pytest.fixture
def run_prod(prod_image, network, prod_env):
    """Starts prod containers on the test network, port 8000 published on a free loopback port."""
    yield from container_runner(prod_image, network, prod_env)


@pytest.fixture
def run_harness(harness_image, network, prod_env):
    """Like run_prod, with the harness's routes (/harness/records/) beside the service's."""
    yield from container_runner(harness_image, network, prod_env)


def container_runner(image, network, env):
    started = []

    def run(*command, extra_args=()):
        name, port = unique_name("app"), free_port()
        options = ["--detach", "--name", name, "--network", network, "-p", f"127.0.0.1:{port}:8000"]
        docker("run", *options, *env_args(env), *extra_args, image, *command)
        started.append(name)
        return name, f"http://127.0.0.1:{port}"

    yield run
    for name in started:
        docker("rm", "--force", name, check=False)


@pytest.fixture(scope="module")
def one_off(prod_image, network, prod_env):
    """Runs a command in a one-off container of the prod image on the test network, as operators run migrate."""

    def run(*command, check=True, env=None):
        settings = env_args({**prod_env, **(env or {})})
        return docker("run", "--rm", "--network", network, *settings, prod_image, *command, check=check)

    return run


@pytest.fixture(scope="module")
def migrated(one_off):
    """Migrations applied the production way: a one-off run of the prod image."""
    one_off("python", "manage.py", "migrate", "--no-input")


@pytest.fixture(scope="module")
def token(one_off, migrated):
    """A write token in the migrated database, for the requests of the module's tests."""
    return create_token(one_off)


@pytest.fixture(scope="module")
def logged_statements(database):
    """statement_logger's function (docker_helpers) on the module's PostgreSQL, whose log it turns on."""
    return statement_logger(database)
