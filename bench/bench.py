"""`make bench`: the case study's before and after, built side by side on this machine.

"before" is bench/Dockerfile.naive; "after" is the Dockerfile's prod target.
Each is built from its own fresh clone of the repository's HEAD, and measured:
a cold build (all build cache removed first), a rebuild after a one-line
source edit, a rebuild after a dependency change (one package added with
`make lock`), the image's size and layers, whether compilers and Pipenv are
in it, and the time from `docker run` to a 200 from /healthz.

Prints a Markdown table and writes everything to bench/results/bench.json.
It removes all of Docker's build cache (`docker builder prune --all`) before
each cold build: run it on a machine where that is acceptable.
"""

import secrets
import shutil
import subprocess
import sys
import time

from bench.common import IMAGE, REPO, describe, docker, env_args, first_ok, free_port, machine, markdown_table, save

ADDED_PACKAGE = "six"
VARIANTS = {
    "before": {"tag": f"{IMAGE}-bench:before", "args": ["--file", "bench/Dockerfile.naive"]},
    "after": {"tag": f"{IMAGE}-bench:after", "args": ["--target", "prod"]},
}
# The prod image insists on production settings; none of them is used before /healthz answers.
RUN_ENV = {
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "localhost",
    "DATABASE_URL": "postgres://bench:bench@127.0.0.1:5432/bench",
}


def timed_build(clone, variant):
    started = time.monotonic()
    # From inside the clone, so that --file and the context are both the clone's.
    subprocess.run(
        ["docker", "build", "--quiet", *VARIANTS[variant]["args"], "--tag", VARIANTS[variant]["tag"], "."],
        cwd=clone,
        check=True,
        capture_output=True,
    )
    return round(time.monotonic() - started, 1)


def clone(name):
    path = REPO / ".cache" / f"bench-{name}"
    shutil.rmtree(path, ignore_errors=True)
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(path)], check=True)
    return path


def dependency_change():
    """A Pipfile and Pipfile.lock with one more package, locked as a developer would."""
    path = clone("locked")
    pipfile = path / "Pipfile"
    pipfile.write_text(pipfile.read_text().replace("[packages]\n", f'[packages]\n{ADDED_PACKAGE} = "*"\n'))
    subprocess.run(["make", "--silent", "lock"], cwd=path, check=True, capture_output=True)
    return path


def seconds_to_healthy(tag):
    port = free_port()
    started = time.monotonic()
    container = docker("run", "--detach", "-p", f"127.0.0.1:{port}:8000", *env_args(RUN_ENV), tag).stdout.strip()
    try:
        first_ok(f"http://127.0.0.1:{port}/healthz")
        return round(time.monotonic() - started, 2)
    finally:
        docker("rm", "--force", container)


def image_facts(tag):
    facts = "{{.Size}} {{len .RootFS.Layers}} {{.Config.User}}:"
    size, layers, user = docker("image", "inspect", "--format", facts, tag).stdout.split()
    has = docker("run", "--rm", "--entrypoint", "sh", tag, "-c", "command -v gcc; command -v pipenv; true").stdout
    return {
        "size_mb": round(int(size) / 1e6),
        "layers": int(layers),
        "compilers": "gcc" in has,
        "pipenv": "pipenv" in has,
        "user": user.rstrip(":") or "root",
    }


def measure(variant, locked):
    print(f"bench: {variant}: cold build", file=sys.stderr)
    path = clone(variant)
    docker("builder", "prune", "--all", "--force")
    result = {"cold_build_s": timed_build(path, variant)}
    print(f"bench: {variant}: rebuilds", file=sys.stderr)
    views = path / "app" / "api" / "views.py"
    views.write_text(views.read_text() + f"\n# a one-line edit {secrets.token_hex(4)}\n")
    result["source_edit_rebuild_s"] = timed_build(path, variant)
    for name in ["Pipfile", "Pipfile.lock"]:
        shutil.copy(locked / name, path / name)
    result["dependency_change_rebuild_s"] = timed_build(path, variant)
    result |= image_facts(VARIANTS[variant]["tag"])
    result["run_to_healthy_s"] = seconds_to_healthy(VARIANTS[variant]["tag"])
    shutil.rmtree(path)
    return result


ROWS = [
    ("cold build (no build cache)", "cold_build_s", "{} s"),
    ("rebuild after a one-line source edit", "source_edit_rebuild_s", "{} s"),
    (f"rebuild after adding a dependency ({ADDED_PACKAGE})", "dependency_change_rebuild_s", "{} s"),
    ("image size", "size_mb", "{} MB"),
    ("layers", "layers", "{}"),
    ("compilers (gcc) in the image", "compilers", "{}"),
    ("Pipenv in the image", "pipenv", "{}"),
    ("runs as", "user", "{}"),
    ("`docker run` to a 200 from /healthz", "run_to_healthy_s", "{} s"),
]


def main():
    locked = dependency_change()
    results = {"machine": machine(), **{variant: measure(variant, locked) for variant in VARIANTS}}
    shutil.rmtree(locked)
    path = save("bench", results)
    header = ["", "before (`bench/Dockerfile.naive`)", "after (`--target prod`)"]
    rows = [[label, *(unit.format(results[v][key]) for v in VARIANTS)] for label, key, unit in ROWS]
    print(markdown_table(header, rows))
    print(f"\n{describe(results['machine'])}")
    print(f"Written to {path}.")


if __name__ == "__main__":
    main()
