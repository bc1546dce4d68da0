"""`make memory`: the memory of the prod container under load, and of a migration.

The numbers behind the memory requests and limits in deploy/kubernetes/. It runs
the prod image with uWSGI's defaults (config/uwsgi.ini) against PostgreSQL
and drives `GET /api/notes/?limit=100`, the largest page, with wrk, while it
samples what the container's cgroup is charged (`docker stats`, the figure a
memory limit is enforced against). Before that it measures the peak RSS of
`python manage.py migrate`, the migration Job's command, on an empty database.
As in `make loadtest`, all traffic stays on one network namespace's loopback.

Prints the results and writes them to bench/results/memory.json.
"""

import argparse
import re
import threading

from bench.common import describe, docker, machine, save
from bench.loadtest import (
    API_APP,
    PROD_IMAGE,
    app_args,
    build_images,
    make_token,
    seed,
    serve,
    start_database,
    uwsgi,
    wrk,
)

UNITS = {"B": 1 / 2**20, "KiB": 1 / 2**10, "MiB": 1, "GiB": 2**10}
# Runs the migration as a child process and prints its peak resident set size (KiB on Linux).
MIGRATE_PEAK_RSS = (
    "import resource, subprocess;"
    "subprocess.run(['python', 'manage.py', 'migrate', '--no-input'], check=True, capture_output=True);"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def container_memory_mib(name):
    usage = docker("stats", "--no-stream", "--format", "{{.MemUsage}}", name).stdout.split("/")[0].strip()
    value, unit = re.fullmatch(r"([\d.]+)\s*(\w+)", usage).groups()
    return float(value) * UNITS[unit]


def peak_memory_during(name, work):
    """Runs work() while sampling the container's memory; returns work's result and the highest sample."""
    samples, done = [container_memory_mib(name)], threading.Event()

    def sample():
        while not done.is_set():
            samples.append(container_memory_mib(name))

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        result = work()
    finally:
        done.set()
        sampler.join()
    return result, max(samples), len(samples)


def run(args):
    database = start_database(args.port)
    try:
        migrate = docker("run", "--rm", *app_args(database), PROD_IMAGE, "python", "-c", MIGRATE_PEAK_RSS)
        token = make_token(database)
        app = serve(database, args.port, uwsgi(), API_APP)
        seed(args.port, token, notes=100)
        idle = container_memory_mib(app)
        load, peak, samples = peak_memory_during(
            app, lambda: wrk(database, "/api/notes/?limit=100", args.seconds, args.connections, token)
        )
        docker("rm", "--force", app)
        return {
            "migrate_peak_rss_mib": round(int(migrate.stdout) / 1024, 1),
            "app_idle_mib": round(idle, 1),
            "app_peak_under_load_mib": round(peak, 1),
            "samples": samples,
            "load": load,
        }
    finally:
        docker("rm", "--force", "--volumes", database, check=False)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=30, help="measured seconds of load")
    parser.add_argument("--connections", type=int, default=32, help="concurrent wrk connections")
    parser.add_argument("--port", type=int, default=18081, help="loopback port for seeding and health checks")
    args = parser.parse_args()

    build_images()
    info = machine()
    results = run(args)
    settings = {"seconds": args.seconds, "connections": args.connections, "uwsgi": "the defaults of config/uwsgi.ini"}
    path = save("memory", {"machine": info, "settings": settings, **results})
    print(f"migrate (peak RSS):                 {results['migrate_peak_rss_mib']} MiB")
    print(f"app, idle after start:             {results['app_idle_mib']} MiB")
    print(f"app, peak under load:              {results['app_peak_under_load_mib']} MiB")
    print(f"\nwrk -t2 -c{args.connections} -d{args.seconds}s on GET /api/notes/?limit=100 (100 notes):")
    load = results["load"]
    print(f"{load['requests_per_s']} req/s, {load['non_2xx']} non-2xx, {load['socket_errors']} socket errors.")
    print(f"{describe(info)}. Written to {path}.")
    if load["non_2xx"] or load["socket_errors"]:
        raise SystemExit("some requests failed")


if __name__ == "__main__":
    main()
