"""`make loadtest`: requests per second and latency of the prod image, next to a bare WSGI app.

For each uWSGI configuration (processes x threads) it runs, one after the other
and under the same uwsgi.ini: the prod image serving `GET /api/notes/` (a page
of 20 notes from PostgreSQL), then the same image serving bench/hello.py. wrk
(from Debian's packages, in a container) drives each for the same time with the
same connections. PostgreSQL, the app and wrk share one network namespace, so
all traffic stays on its loopback interface.

Prints a Markdown table and writes everything to bench/results/loadtest.json.
"""

import argparse
import json
import re
import secrets
import sys
import time
import urllib.request

from common import REPO, compose_image, describe, docker, env_args, machine, markdown_table, save, wait_for_http

PROD_IMAGE = "notes-bench:prod"
WRK_IMAGE = "notes-bench:wrk"
DATABASE_URL = "postgres://notes:notes@127.0.0.1:5432/notes"


def start_database(port):
    """PostgreSQL, whose network namespace the app and wrk join; port 8000 published for seeding."""
    name = f"notes-loadtest-{secrets.token_hex(4)}"
    credentials = {
        "POSTGRES_USER": "notes",
        "POSTGRES_PASSWORD": "notes",
        "POSTGRES_DB": "notes",
    }
    docker(
        "run", "--detach", "--name", name, "-p", f"127.0.0.1:{port}:8000", *env_args(credentials), compose_image("db")
    )
    for _ in range(120):
        ready = docker("exec", name, "pg_isready", "--host=127.0.0.1", "--username=notes", check=False).stdout
        if "accepting connections" in ready:
            return name
        time.sleep(0.5)
    raise SystemExit("PostgreSQL did not start")


def app_args(database, processes, threads):
    return [
        "--network", f"container:{database}",
        "-e", f"DJANGO_SECRET_KEY={secrets.token_urlsafe(50)}",
        "-e", "DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost",
        "-e", f"DATABASE_URL={DATABASE_URL}",
        "-e", f"UWSGI_PROCESSES={processes}",
        "-e", f"UWSGI_THREADS={threads}",
    ]  # fmt: skip


def wrk(database, path, seconds, connections):
    url = f"http://127.0.0.1:8000{path}"
    network = ["--network", f"container:{database}"]
    docker("run", "--rm", *network, WRK_IMAGE, "-t2", "-c4", "-d2s", url)  # warm-up: imports, connections
    load = ["-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    output = docker("run", "--rm", *network, WRK_IMAGE, *load, url).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "requests_per_s": round(float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))),
        "p50_ms": latency(output, "50%"),
        "p99_ms": latency(output, "99%"),
        "errors": int(errors.group(1)) if errors else 0,
    }


def latency(output, percentile):
    found = re.search(rf"^\s*{percentile}\s+([\d.]+)(us|ms|s|m)\s*$", output, re.MULTILINE)
    if not found:
        raise SystemExit(f"no {percentile} latency in wrk's output:\n{output}")
    value, unit = found.groups()
    return round(float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60_000}[unit], 1)


def serve(database, port, processes, threads, *hello):
    """Starts the prod image in the database's network namespace; returns the container's name."""
    name = docker("run", "--detach", *app_args(database, processes, threads), *hello).stdout.strip()
    wait_for_http(f"http://127.0.0.1:{port}/healthz", timeout=60)
    return name


def run(args):
    port = args.port
    database = start_database(port)
    try:
        docker("run", "--rm", *app_args(database, 1, 1), PROD_IMAGE, "python", "manage.py", "migrate", "--no-input")
        results = []
        for processes, threads in args.configs:
            print(f"loadtest: {processes} processes x {threads} threads", file=sys.stderr)
            app = serve(database, port, processes, threads, PROD_IMAGE)
            seed(port)
            api = wrk(database, "/api/notes/", args.seconds, args.connections)
            docker("rm", "--force", app)
            hello_file = ["-v", f"{REPO / 'bench' / 'hello.py'}:/app/hello.py:ro"]
            hello_cmd = ["uwsgi", "--ini", "config/uwsgi.ini", "--module", "hello:application"]
            app = serve(database, port, processes, threads, *hello_file, PROD_IMAGE, *hello_cmd)
            hello = wrk(database, "/", args.seconds, args.connections)
            docker("rm", "--force", app)
            results.append({"processes": processes, "threads": threads, "api": api, "hello": hello})
        return results
    finally:
        docker("rm", "--force", "--volumes", database, check=False)


def seed(port, notes=20):
    """Enough notes for a full first page, added once."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/notes/?limit=1") as response:
        missing = notes - json.load(response)["count"]
    for number in range(missing):
        body = json.dumps({"title": f"note {number}", "body": "lorem ipsum " * 20}).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/notes/", data=body, method="POST")
        request.add_header("Content-Type", "application/json")
        urllib.request.urlopen(request).close()


def build_images():
    """The prod image and wrk's, which memory.py uses too."""
    docker("build", "--quiet", "--target", "prod", "--tag", PROD_IMAGE, str(REPO))
    docker(
        "build", "--quiet", "--file", str(REPO / "bench" / "wrk.Dockerfile"), "--tag", WRK_IMAGE, str(REPO / "bench")
    )


def configuration(text):
    processes, threads = text.split("x")
    return int(processes), int(threads)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--configs", type=lambda s: [configuration(c) for c in s.split(",")], default="1x1,2x1,2x4,4x1,4x4"
    )
    parser.add_argument("--seconds", type=int, default=10, help="measured seconds per run")
    parser.add_argument("--connections", type=int, default=16, help="concurrent wrk connections")
    parser.add_argument("--port", type=int, default=18080, help="loopback port for seeding and health checks")
    args = parser.parse_args()

    build_images()
    results = run(args)
    settings = {"seconds": args.seconds, "connections": args.connections, "wrk_threads": 2}
    info = machine()
    path = save("loadtest", {"machine": info, "settings": settings, "runs": results})

    header = [
        "processes x threads",
        "API req/s",
        "API p50 / p99 ms",
        "hello req/s",
        "hello p50 / p99 ms",
        "API / hello",
    ]
    rows = [
        [
            f"{r['processes']} x {r['threads']}",
            r["api"]["requests_per_s"],
            f"{r['api']['p50_ms']} / {r['api']['p99_ms']}",
            r["hello"]["requests_per_s"],
            f"{r['hello']['p50_ms']} / {r['hello']['p99_ms']}",
            f"{r['api']['requests_per_s'] / r['hello']['requests_per_s']:.0%}",
        ]
        for r in results
    ]
    print(markdown_table(header, rows))
    failed = sum(r["api"]["errors"] + r["hello"]["errors"] for r in results)
    print("\n`GET /api/notes/` (20 notes) and bench/hello.py, each after a 2 s warm-up:")
    print(f"wrk -t2 -c{args.connections} -d{args.seconds}s --latency. {describe(info)}")
    print(f"Non-2xx responses: {failed}. Written to {path}.")
    if failed:
        raise SystemExit("some requests failed")


if __name__ == "__main__":
    main()
