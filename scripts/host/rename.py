"""`make rename NAME=<name>`: gives a copy of the template its own name, in one step.

The name is the project's identity: the image name (IMAGE in the Makefile, the
tags in the workflow and the docs), the compose database's name and user, the
README's and the OpenAPI document's titles, and every object, label and image
in deploy/kubernetes (there with hyphens for underscores, which Kubernetes
names refuse). An app's folder
and routes are not renamed, the example's included: they are code, not the
project's name. Run it again to rename again.
"""

import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# The files that hold the name. tests/host/test_template.py fails if another file does.
FILES = [
    "Makefile",
    "Dockerfile",
    "config/openapi.json",
    "docker-compose.yml",
    ".env.example",
    ".github/workflows/ci.yml",
    "README.md",
    "docs/*.md",
]
# The host-side tests and bench/ read the name from the Makefile and the database from compose.
# In the Kubernetes manifests every whole word of the name is the name.
KUBERNETES_FILES = "deploy/kubernetes/**/*.yaml"
# Lowercase letters, digits and underscores, starting with a letter: an image
# name and an unquoted PostgreSQL name both accept it as it is.
VALID_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")


def current_name():
    return re.search(r"^IMAGE \?= (\w+)$", (REPO / "Makefile").read_text(), re.MULTILINE)[1]


def rules(old, new):
    """(pattern, replacement) pairs that turn each written form of the old name into the new one."""
    old = re.escape(old)
    return [
        # The Makefile's default image, and the host-side tests' one.
        (rf"^IMAGE \?= {old}$", f"IMAGE ?= {new}"),
        (rf'(os\.environ\.get\("IMAGE", "){old}"', rf'\g<1>{new}"'),
        # Image tags and container names.
        (rf"\b{old}:(prod|dev|export)\b", rf"{new}:\1"),
        (rf"(--name |docker logs |docker exec ){old}\b", rf"\g<1>{new}"),
        # The OpenAPI document's title, and the image's OCI title and description labels.
        (rf'^(\s+"title": "){old}"', rf'\g<1>{new}"'),
        (rf"^(LABEL org\.opencontainers\.image\.title=){old}\b", rf"\g<1>{new}"),
        (rf'^(\s+org\.opencontainers\.image\.description="){old}:', rf"\g<1>{new}:"),
        # The database's user, password and name, in docker-compose.yml and the workflow.
        (rf"postgres://{old}:{old}@([\w.]+):5432/{old}\b", rf"postgres://{new}:{new}@\1:5432/{new}"),
        (rf'(POSTGRES_(?:USER|PASSWORD|DB)"?[:=] ?"?){old}\b', rf"\g<1>{new}"),
        (rf"--(username|dbname)={old}\b", rf"--\1={new}"),
    ]


# In the docs' commands and code, every whole word of the name is the name (kubectl's objects, a
# registry path), but for the paths of an app that shares it (its folder, its routes, its tests).
def markdown_code_rule(old, new):
    example_path = r"(?<!app/)(?<!api/)(?<!tests/)(?<!host/)(?<!app\.)"
    word = re.compile(rf"{example_path}\b{re.escape(kubernetes_name(old))}\b(?!/)")
    code = re.compile(r"^```.*?^```$|`[^`\n]+`", re.MULTILINE | re.DOTALL)
    return lambda text: code.sub(lambda match: word.sub(kubernetes_name(new), match[0]), text)


def kubernetes_name(name):
    return name.replace("_", "-")


def main(new):
    if not VALID_NAME.fullmatch(new):
        sys.exit(
            f"NAME must be a lowercase identifier (a-z, 0-9 and _, starting with a letter, at most 63), not {new!r}: "
            "make rename NAME=inventory"
        )
    old = current_name()
    for path in sorted({path for pattern in FILES for path in REPO.glob(pattern)}):
        text = path.read_text()
        for pattern, replacement in rules(old, new):
            text = re.sub(pattern, replacement, text, flags=re.MULTILINE)
        if path.suffix == ".md":
            text = markdown_code_rule(old, new)(text)
        if path.name == "README.md":
            text = re.sub(r"\A# .*", f"# {new}", text)
        path.write_text(text)
    for path in REPO.glob(KUBERNETES_FILES):
        text = re.sub(rf"\b{re.escape(kubernetes_name(old))}\b", kubernetes_name(new), path.read_text())
        path.write_text(text)
    print(f"Renamed {old} to {new}. Review the change (git diff), then run make test.")


if __name__ == "__main__":
    main(sys.argv[1])
