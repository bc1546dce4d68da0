"""What bench.py and loadtest.py share: running docker, waiting for HTTP, describing the machine."""

import json
import os
import platform
import subprocess
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"


def docker(*args, check=True):
    result = subprocess.run(["docker", *args], capture_output=True, text=True)
    if check and result.returncode != 0:
        raise SystemExit(f"docker {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout.strip()


def postgres_image():
    """The PostgreSQL image docker-compose.yml runs: its tag is written there once."""
    config = json.loads(docker("compose", "--file", str(REPO / "docker-compose.yml"), "config", "--format", "json"))
    return config["services"]["db"]["image"]


def wait_for_ok(url, timeout=60):
    """Polls url until it answers 200; returns the seconds that took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return time.monotonic() - started
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.05)
    raise SystemExit(f"{url} did not answer 200 within {timeout} s")


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
        "docker": docker("version", "--format", "{{.Server.Version}}"),
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
