"""What bench.py and loadtest.py share: the host-side tests' helpers, describing the machine, saving results."""

import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path

# docker, HTTP and the like are the host-side tests' helpers, one copy of each; the
# bench scripts import them from here. They run as modules from the repository's root
# (`python3 -m bench.loadtest`), where tests/host is the package tests.host.
from tests.host.docker_helpers import (  # noqa: F401
    IMAGE,
    REPO,
    build_wrk_image,
    compose_image,
    create_token,
    docker,
    dockerfile_base_image,
    env_args,
    free_port,
    http,
    local_database,
    wait_for_http,
    wrk_failures,
)

RESULTS = REPO / "bench" / "results"


def first_ok(url, token=None):
    """Polls url until it answers, which must be a 200; for start-up times, every 10 ms."""
    status = wait_for_http(url, timeout=60, interval=0.01, token=token)[0]
    if status != 200:
        raise SystemExit(f"{url} answered {status} first, not 200")


def machine():
    memory_kb = int(Path("/proc/meminfo").read_text().split()[1])
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.machine(),
    )
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "cores": os.cpu_count(),
        "memory_gib": round(memory_kb / 2**20),
        "cpu": cpu,
        "docker": docker("version", "--format", "{{.Server.Version}}").stdout.strip(),
    }


def describe(info):
    return f"{info['date']}, {info['cores']} cores, {info['memory_gib']} GiB, {info['cpu']}, Docker {info['docker']}"


def save(name, results):
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    return path.relative_to(REPO)


def markdown_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)
