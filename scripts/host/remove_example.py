"""`make remove-example`: deletes the example app and every line that refers to it, in one step.

What goes: the example's folders (EXAMPLE_FOLDERS), each line of code or
configuration that ends in the comment `# example` (a table row of the docs:
`<!-- example -->`), and each passage of the docs between `<!-- example -->`
and `<!-- /example -->`. What stays is the
machinery, the probes and the harness its tests use: a service with no routes
of its own, which builds, migrates, serves its probes and passes `make test`.
bench/ stays too: it measures the example's routes, so point it at yours.
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_FOLDERS = ["app/notes", "tests/notes", "tests/host/notes"]
# This tool and its test go too: with no example left, they have nothing to do.
OWN_FILES = ["scripts/host/remove_example.py", "tests/host/test_remove_example.py"]
# A whole line, so that what is left is still valid code.
MARKED_LINE = re.compile(r"^.*\S[ \t]+(?:# example|<!-- example -->)\n", re.MULTILINE)
MARKED_PASSAGE = re.compile(r"^<!-- example -->\n.*?^<!-- /example -->\n", re.MULTILINE | re.DOTALL)
MARKER = re.compile(r"^<!-- /?example -->$", re.MULTILINE)


def tracked_files():
    listed = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z"], capture_output=True, check=True, text=True)
    return [REPO / name for name in listed.stdout.split("\0") if name]


def main():
    if not (REPO / EXAMPLE_FOLDERS[0]).exists():
        sys.exit(f"There is no example to remove: {EXAMPLE_FOLDERS[0]} does not exist.")
    files = tracked_files()
    for folder in EXAMPLE_FOLDERS:
        shutil.rmtree(REPO / folder, ignore_errors=True)
    for name in OWN_FILES:
        (REPO / name).unlink()
    for path in files:
        if path.suffix in {".png", ".ico"} or not path.is_file():
            continue
        text = path.read_text()
        kept = MARKED_PASSAGE.sub("", MARKED_LINE.sub("", text))
        if MARKER.search(kept):
            sys.exit(f"{path.relative_to(REPO)}: an example passage is not closed; nothing else was changed after it.")
        if kept != text:
            path.write_text(kept)
    print("Removed the example. Review the change (git status, git diff), then run make test.")


if __name__ == "__main__":
    main()
