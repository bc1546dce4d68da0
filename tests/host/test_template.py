"""What a team gets when it copies the template: `make rename`, `make init`, .env and its documentation."""

import json
import re
import stat

import pytest
from docker_helpers import REPO, compose_config, docker, make, unique_name


def test_env_example_documents_every_variable_the_service_reads():
    settings = (REPO / "config" / "settings.py").read_text()
    read = set(re.findall(r"(?:env_bool|env_list|env_required|os\.environ\.get)\(\s*\"(\w+)\"", settings))
    read |= set(re.findall(r"^if-(?:not-)?env = (\w+)", (REPO / "config" / "uwsgi.ini").read_text(), re.MULTILINE))
    documented = set(re.findall(r"^#? ?(\w+)=", (REPO / ".env.example").read_text(), re.MULTILINE))

    assert {"DJANGO_SECRET_KEY", "UWSGI_THREADS", "LOG_FORMAT"} <= read  # the patterns still find them
    assert read <= documented, f"not in .env.example: {sorted(read - documented)}"


def test_make_help_lists_every_target_and_the_docs_name_only_targets_that_exist():
    makefile = (REPO / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z0-9-]+):", makefile, re.MULTILINE))
    listed = set(re.findall(r"^  ([a-z0-9-]+) ", make(REPO, "help").stdout, re.MULTILINE))
    texts = [path.read_text() for path in [REPO / "README.md", *REPO.glob("docs/*.md")]]
    named = {name for text in texts for name in re.findall(r"`make ([a-z0-9-]+)", text)}
    named |= set(re.findall(r"make ([a-z0-9-]+)", (REPO / ".pre-commit-config.yaml").read_text()))

    assert {"test", "lint-kubernetes", "lock-tools"} <= targets  # the pattern still finds them
    assert targets == listed, f"missing from make help: {sorted(targets - listed)}"
    assert named <= targets, f"named but not in the Makefile: {sorted(named - targets)}"


def test_no_two_modules_of_the_tests_or_benchmarks_share_a_name():
    # pytest and the bench scripts import them by name: two of one name would shadow each other.
    modules = [*REPO.glob("tests/**/*.py"), *REPO.glob("bench/*.py")]
    names = [path.name for path in modules if path.name != "conftest.py"]

    assert len(names) > 30  # the folders are still there
    assert sorted({name for name in names if names.count(name) > 1}) == []


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

    services = compose_config(repo_copy)["services"]
    environment, db = services["app"]["environment"], services["db"]["environment"]

    assert environment["DJANGO_LOG_LEVEL"] == "DEBUG"
    user, password, name = db["POSTGRES_USER"], db["POSTGRES_PASSWORD"], db["POSTGRES_DB"]
    assert environment["DATABASE_URL"] == f"postgres://{user}:{password}@db:5432/{name}"


def secret_key(env):
    return re.search(r"^DJANGO_SECRET_KEY=(.*)$", env.read_text(), re.MULTILINE)[1]


# Each written form of the template's own name that `make rename` changes.
NAME = "notes"
OLD_NAME = re.compile(
    "|".join(
        [
            rf"IMAGE \?= {NAME}",
            rf"\b{NAME}:(prod|dev|export)\b",
            rf"postgres://{NAME}:",
            rf"POSTGRES_\w+\W{{1,4}}{NAME}\b",
            rf"={NAME}\b",
        ]
    )
)


# The example's own paths, which keep its name: its folder, its routes, its tests' folders.
EXAMPLE_PATH = re.compile(rf"(app|api|tests|host)/{NAME}\b|app\.{NAME}\b|\b{NAME}/")
DOCS_CODE = re.compile(r"^```.*?^```$|`[^`\n]+`", re.MULTILINE | re.DOTALL)


def leftover_name(repo):
    """Each whole word of the old name left in a file that is not Python or JSON, or in the docs' code and commands.

    Independent of scripts/host/rename.py's rules: it looks at every word, not
    at the forms the rules know. Python and JSON use the word for the example's
    notes in prose and data; the forms of OLD_NAME cover them.
    """
    left = []
    for path in sorted(path for path in repo.rglob("*") if path.is_file() and not {".cache", ".git"} & set(path.parts)):
        relative = path.relative_to(repo)
        if path.suffix in {".py", ".json", ".lock"} or NAME in relative.parts:
            continue
        text = path.read_text(errors="replace")
        for chunk in DOCS_CODE.findall(text) if path.suffix == ".md" else [text]:
            left += [f"{relative}: {line.strip()}" for line in chunk.splitlines()
                     if re.search(rf"\b{NAME}\b", EXAMPLE_PATH.sub("", line))]  # fmt: skip
    return left


@pytest.mark.parametrize("name", ["", "Inventory", "my-shop", "1shop", "shop;true"])
def test_make_rename_refuses_a_name_that_is_not_a_lowercase_identifier(repo_copy, name):
    makefile = (repo_copy / "Makefile").read_text()

    result = make(repo_copy, "rename", f"NAME={name}")

    assert result.returncode != 0
    assert "NAME must be a lowercase identifier" in result.stderr
    assert (repo_copy / "Makefile").read_text() == makefile


def test_a_renamed_copy_builds_as_its_new_name_and_passes_its_tests(repo_copy):
    renamed = make(repo_copy, "rename", "NAME=inventory")
    assert renamed.returncode == 0, renamed.stderr

    files = [path.relative_to(repo_copy) for path in repo_copy.rglob("*") if path.is_file()]
    assert len(files) > 50
    assert [str(path) for path in files if OLD_NAME.search((repo_copy / path).read_text(errors="replace"))] == []
    assert leftover_name(repo_copy) == []
    assert (repo_copy / "README.md").read_text().startswith("# inventory\n")
    assert json.loads((repo_copy / "config" / "openapi.json").read_text())["info"]["title"] == "inventory"
    database = compose_config(repo_copy)["services"]["db"]["environment"]
    assert (database["POSTGRES_USER"], database["POSTGRES_DB"]) == ("inventory", "inventory")
    # Still lint-clean: a longer name must not push a line over the limit, say.
    linted = make(repo_copy, "lint", f"LINT_VENV={REPO / '.cache' / 'lint-venv'}", timeout=600)
    assert linted.returncode == 0, linted.stdout + linted.stderr
    try:
        built = make(repo_copy, "build", timeout=1800)
        assert built.returncode == 0, built.stderr
        assert docker("image", "inspect", "inventory:prod").returncode == 0
        # Its own compose project for the database, so that no other run's is touched.
        tested = make(repo_copy, "test-app", f"TEST_PROJECT={unique_name('inventory')}", timeout=1800)
        assert tested.returncode == 0, tested.stdout[-5000:] + tested.stderr[-5000:]
        assert re.search(r"\d+ passed", tested.stdout)
    finally:
        docker("image", "rm", "inventory:prod", "inventory:dev", check=False)


def test_every_test_the_docs_name_exists():
    # A module (test_x.py) or one of its tests (test_x.py::test_y), in any folder of tests/.
    texts = [path.read_text() for path in [REPO / "README.md", *REPO.glob("docs/*.md")]]
    named = {match for text in texts for match in re.findall(r"\b(test_\w+\.py)(?:::(test_\w+))?", text)}
    modules = {path.name: path.read_text() for path in REPO.glob("tests/**/test_*.py")}

    assert len(named) > 20  # the pattern still finds them

    def exists(module, test):
        return module in modules and (not test or re.search(rf"^def {test}\(", modules[module], re.MULTILINE))

    assert sorted(f"{module}::{test}".rstrip(":") for module, test in named if not exists(module, test)) == []
