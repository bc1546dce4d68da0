"""The docs' numbers that come from configuration are the configuration's: change one, and the docs must follow.

Each setting is found in the docs by its name in backticks. The number it is
given is the one in front of it when the name stands in parentheses ("4 s of
database time in all (`DATABASE_DEADLINE`)"), otherwise the first one after
it ("`harakiri` at 8 s"); a mention with no number near it claims none.
"""

import json
import re

from docker_helpers import REPO, uwsgi_option

SETTINGS = (REPO / "config" / "settings.py").read_text()
DOCS = {path.name: " ".join(path.read_text().split()) for path in [REPO / "README.md", *REPO.glob("docs/*.md")]}
# How far from a setting's name the docs write its value, in characters.
NEAR = 45
NUMBER = re.compile(r"\d[\d,]*")


def setting(pattern):
    return re.search(pattern, SETTINGS, re.MULTILINE)[1]


VALUES = {
    "harakiri": uwsgi_option("harakiri"),
    "http-connect-timeout": uwsgi_option("http-connect-timeout"),
    "http-keepalive": uwsgi_option("http-keepalive"),
    "listen": uwsgi_option("listen"),
    "reload-on-rss": uwsgi_option("reload-on-rss"),
    "DATABASE_DEADLINE": setting(r"^DATABASE_DEADLINE = (\d+)$"),
    "DATABASE_READINESS_DEADLINE": setting(r"^DATABASE_READINESS_DEADLINE = (\d+)$"),
    "statement_timeout": setting(r"statement_timeout=(\d+)s"),
    "CONN_MAX_AGE": setting(r"conn_max_age=(\d+)"),
}
PROCESSES = uwsgi_option("processes")
SPELLED = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"]
# "8 workers", "all eight workers", "8 single-threaded workers", "8 worker processes"; not gunicorn's "per core".
WORKERS = re.compile(rf"\b(\d+|{'|'.join(SPELLED)}) (?:single-threaded )?(?:workers|worker processes)\b(?! per)")
LOCK = json.loads((REPO / "Pipfile.lock").read_text())["default"]


def claims(name):
    """(file, the number the docs give the setting, the sentence around it) for each mention of `name`."""
    found = []
    for file, text in DOCS.items():
        for mention in re.finditer(rf"(\(?)`{re.escape(name)}`", text):
            before = NUMBER.findall(text[max(0, mention.start() - NEAR) : mention.start()])
            after = NUMBER.search(text[mention.end() : mention.end() + NEAR])
            number = before[-1] if mention[1] and before else after and after[0]
            if number:
                found.append((file, number.replace(",", ""), text[mention.start() - NEAR : mention.end() + NEAR]))
    return found


def test_the_numbers_the_docs_give_a_setting_are_the_settings():
    found = {name: claims(name) for name in VALUES}
    wrong = [(name, *claim) for name, claimed in found.items() for claim in claimed if claim[1] != VALUES[name]]

    assert len([claim for claimed in found.values() for claim in claimed]) > 10  # the docs still name them
    assert wrong == []


def as_digits(count):
    return count if count.isdigit() else str(SPELLED.index(count))


def test_the_worker_count_the_docs_give_is_uwsgi_ini_s():
    # Measurements made with other counts say so with "×" ("4 × 1"), which this leaves alone.
    counts = [(file, match[0], match[1]) for file, text in DOCS.items() for match in WORKERS.finditer(text)]
    wrong = [(file, phrase) for file, phrase, count in counts if as_digits(count) != PROCESSES]

    assert len(counts) >= 3
    assert wrong == []


def test_the_django_and_uwsgi_versions_the_docs_give_are_the_locked_ones():
    for package, name in [("django", "Django"), ("uwsgi", "uWSGI")]:
        locked = LOCK[package]["version"].removeprefix("==")
        written = [
            version for text in DOCS.values() for version in re.findall(rf"\b{name} (\d+\.\d+(?:\.\d+)?)\b", text)
        ]
        assert written, name
        assert [version for version in written if not f"{locked}.".startswith(f"{version}.")] == [], locked
