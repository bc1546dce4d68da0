"""What the prod and dev images contain, and what they leave out."""

import io
import json
import re
import subprocess
import tarfile

from docker_helpers import docker, dockerfile_base_image, locked_packages, normalized_name

BUILD_TOOLS = ["gcc", "cc", "make", "pip", "pip3", "pipenv", "pytest"]
# Budgets over the base stage's slim Python image, set from what the image achieves with a little headroom.
# The size includes the standard library's bytecode (the base stage compiles it; see stdlib_bytecode_mb).
SIZE_BUDGET_MB = 57
LAYER_BUDGET = 7


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
    # The versions the code itself reports, which Pipfile.lock's upgrades move.
    locked = locked_packages()
    result = docker("run", "--rm", prod_image, "python", "-c", "import django, psycopg2; print(django.get_version())")
    assert result.stdout.strip() == locked["django"]
    assert docker("run", "--rm", prod_image, "uwsgi", "--version").stdout.strip() == locked["uwsgi"]


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


def test_no_setuid_or_setgid_files(prod_image):
    # As root, so that no directory is hidden from the search.
    found = docker(
        "run", "--rm", "--user", "0", prod_image, "find", "/", "-xdev", "-type", "f", "-perm", "/6000"
    ).stdout
    assert found.strip() == ""


def test_code_and_packages_are_not_writable_by_the_app_user(prod_image):
    found = docker("run", "--rm", prod_image, "find", "/app", "/opt/venv", "-writable").stdout
    assert found.strip() == ""
    assert docker("run", "--rm", prod_image, "stat", "-c", "%U", "/app/app/api/views.py").stdout.strip() == "root"


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


def test_prod_has_exactly_the_locked_production_packages(prod_image):
    # Name and version, as Python itself reports what is installed: the same
    # names at other versions are not the locked packages.
    listing = "import importlib.metadata as m\nfor d in m.distributions(): print(d.metadata['Name'], d.version)"

    installed = docker("run", "--rm", prod_image, "python", "-c", listing).stdout.splitlines()

    assert sorted((normalized_name(name), version) for name, version in map(str.split, installed)) == sorted(
        locked_packages().items()
    )


def image_size_and_layers(image):
    size, layers = docker("image", "inspect", "--format", "{{.Size}} {{len .RootFS.Layers}}", image).stdout.split()
    return int(size), int(layers)


def stdlib_bytecode_mb(image):
    """MB of bytecode the image already has for its standard library.

    Docker Hub's python images have none, and prod's base stage compiles it;
    a base image built from Debian's Python has it already. Counted as added
    either way, so that the budget means the same on both.
    """
    stdlib = "import sysconfig; print(sysconfig.get_path('stdlib'))"
    path = docker("run", "--rm", image, "python", "-c", stdlib).stdout.strip()
    sizes = docker("run", "--rm", image, "find", path, "-name", "*.pyc", "-printf", "%s\\n").stdout.split()
    return sum(map(int, sizes)) / 1e6


def test_prod_stays_within_its_size_and_layer_budget(prod_image):
    base = dockerfile_base_image("base")
    size, layers = image_size_and_layers(prod_image)
    base_size, base_layers = image_size_and_layers(base)

    added_mb = (size - base_size) / 1e6 + stdlib_bytecode_mb(base)
    assert added_mb <= SIZE_BUDGET_MB, f"prod adds {added_mb:.1f} MB to {base}"
    assert layers - base_layers <= LAYER_BUDGET


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


def test_prod_runs_the_python_version_of_the_base_image_tag(prod_image):
    minor = dockerfile_base_image("base").removeprefix("python:").removesuffix("-slim")

    assert docker("run", "--rm", prod_image, "python", "--version").stdout.startswith(f"Python {minor}.")
