"""`make loadtest`: throughput, latency and start-up of the prod image, next to gunicorn, granian and a bare WSGI app.

For each server and configuration: the prod image's app serving
`GET /api/notes/` (a page of 20 notes from PostgreSQL) at 16 and at 64
connections, then the same server with the same settings serving
bench/hello.py, a bare WSGI app; in rounds, with the servers' order rotating
from round to round, and the medians reported. The servers, each with a log
line per request and without: uWSGI with config/uwsgi.ini as in production,
at its defaults (worker 1 kept for the probes) and at other processes x
threads (8 x 1 the former defaults), where every worker serves the API;
gunicorn as the templates that choose it configure it (2 workers per core,
sync workers, and gthread workers with 4 threads each); granian as its README
advises for a WSGI app that is busy on the CPU (a worker per core, one blocking thread each). Both
are benchmark-only installs (bench/peers.Dockerfile). Then uWSGI at its
defaults without keep-alive, without its router and with METRICS=off (what
the metrics cost). wrk (from Debian's packages, in a container) drives each
for the same time with the same connections. PostgreSQL, the app and wrk
share one network namespace, so all traffic stays on its loopback interface.

Then it serves `GET /api/notes/<id>/` and bench/floor.py, the same read in a
bare Django, with uWSGI at its defaults, round by round; profiles one
`GET /api/notes/` layer by layer (bench/request_profile.py); and measures
start-up, `docker run` to the first 200 from /healthz and from the API, with
and without the bytecode compiled at build time.

Prints Markdown tables and writes everything to bench/results/loadtest.json.
Image tags and container names start with $IMAGE (default "notes").
"""

import argparse
import json
import os
import re
import secrets
import statistics
import sys
import time

from bench.common import (
    IMAGE,
    REPO,
    build_wrk_image,
    compose_image,
    create_token,
    describe,
    docker,
    dockerfile_base_image,
    env_args,
    first_ok,
    http,
    local_database,
    machine,
    markdown_table,
    save,
    wait_for_http,
    wrk_failures,
)

PROD_IMAGE = f"{IMAGE}-bench:prod"
PEERS_IMAGE = f"{IMAGE}-bench:peers"
NO_BYTECODE_IMAGE = f"{IMAGE}-bench:no-bytecode"
WRK_IMAGE = f"{IMAGE}-bench:wrk"
# How long wrk waits for an answer before it counts a timeout: the API's promise (docs/api.md).
WRK_TIMEOUT_S = 5
# docker-compose.yml's database, which the app reaches on loopback here: it shares PostgreSQL's network namespace.
DATABASE_ENVIRONMENT, COMPOSE_DATABASE_URL = local_database()
DATABASE_URL = COMPOSE_DATABASE_URL.replace("@db:", "@127.0.0.1:")
API_APP, BARE_APP, FLOOR_APP = "config.wsgi:application", "hello:application", "floor:application"
BENCH = REPO / "bench"
HELLO_MOUNT = ["-v", f"{BENCH / 'hello.py'}:/app/hello.py:ro"]
FLOOR_MOUNT = ["-v", f"{BENCH / 'floor.py'}:/app/floor.py:ro"]
PROFILE_MOUNT = ["-v", f"{BENCH / 'request_profile.py'}:/app/request_profile.py:ro"]
LATENCY_MOUNT = ["-v", f"{BENCH / 'latency.lua'}:/latency.lua:ro"]


def uwsgi(processes=None, threads=None, router=True, keepalive=True, metrics=True, request_log=True):
    """uWSGI as the prod image runs it: at its defaults, or at processes x threads.

    At its defaults worker 1 serves only the probes (config/uwsgi.ini); at a
    count of one's own every worker serves the API. Without its HTTP router,
    the workers speak HTTP; without keep-alive, the router closes each
    connection after its response and says so; without metrics (METRICS=off),
    nothing is counted and no exporter runs; without the request log
    (--disable-logging), no line per request.
    """
    defaults = processes is None
    env = {} if defaults else {"UWSGI_PROCESSES": processes, "UWSGI_THREADS": threads}
    if not router:
        env["UWSGI_HTTP_SOCKET"] = ":8000"
    if not metrics:
        env["METRICS"] = "off"
    options = [] if keepalive else ["--http-keepalive=0", "--add-header", "Connection: close"]
    options += [] if request_log else ["--disable-logging"]
    label = "uWSGI" if router else "uWSGI without router"
    label += "" if keepalive else ", Connection: close"
    label += " (defaults)" if defaults else ""
    processes, threads = uwsgi_defaults() if defaults else (processes, threads)
    return {
        "server": label if metrics else f"{label}, metrics off",
        "processes": processes,
        "threads": threads,
        "request_log": request_log,
        "image": PROD_IMAGE,
        "env": env,
        "command": lambda app: ["uwsgi", "--ini", "config/uwsgi.ini", *options, "--module", app],
    }


def gunicorn(workers, threads, request_log=True):
    """gunicorn as nickjj/docker-django-example's config/gunicorn.py sets it up.

    Workers by core count (WEB_CONCURRENCY, 2 per core), threads from
    PYTHON_MAX_THREADS (more than one means gthread workers), the access log
    on stdout. cookiecutter-django runs `gunicorn config.wsgi` with gunicorn's
    defaults, which read WEB_CONCURRENCY as well.
    """
    worker_class = "gthread" if threads > 1 else "sync"
    access_log = ["--access-logfile", "-"] if request_log else []
    return {
        "server": f"gunicorn {worker_class}",
        "processes": workers,
        "threads": threads,
        "request_log": request_log,
        "image": PEERS_IMAGE,
        "env": {},
        "command": lambda app: [
            "python", "-m", "gunicorn", "--bind", "0.0.0.0:8000", "--workers", str(workers),
            "--threads", str(threads), "--worker-class", worker_class, *access_log, app,
        ],
    }  # fmt: skip


def granian(workers, request_log=True):
    """granian's WSGI interface as its README advises for an app that keeps the CPU busy.

    A worker process per core; one blocking thread each, the threads that run
    the WSGI app (more would only wait for the GIL); backpressure left at its
    default, a share of the backlog, since a lower one would cap the kept-alive
    connections a worker accepts, not its requests. The access log, off by
    default, on stdout for the rows with a request log.
    """
    access_log = ["--access-log"] if request_log else []
    return {
        "server": "granian",
        "processes": workers,
        "threads": 1,
        "request_log": request_log,
        "image": PEERS_IMAGE,
        "env": {},
        "command": lambda app: [
            "python", "-m", "granian", "--interface", "wsgi", "--host", "0.0.0.0", "--port", "8000",
            "--workers", str(workers), "--blocking-threads", "1", *access_log, app,
        ],
    }  # fmt: skip


def start_database(port):
    """PostgreSQL, whose network namespace the app and wrk join; port 8000 published for seeding."""
    name = f"{IMAGE}-loadtest-{secrets.token_hex(4)}"
    published = ["-p", f"127.0.0.1:{port}:8000"]
    docker("run", "--detach", "--name", name, *published, *env_args(DATABASE_ENVIRONMENT), compose_image("db"))
    for _ in range(120):
        ready = docker(
            "exec",
            name,
            "pg_isready",
            "--host=127.0.0.1",
            f"--username={DATABASE_ENVIRONMENT['POSTGRES_USER']}",
            check=False,
        ).stdout
        if "accepting connections" in ready:
            return name
        time.sleep(0.5)
    raise SystemExit("PostgreSQL did not start")


def app_args(database, env=None):
    env = {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": DATABASE_URL,
        **(env or {}),
    }
    return ["--network", f"container:{database}", *env_args(env)]


def make_token(database):
    """An API token for the requests, made with createtoken in a one-off run of the prod image."""
    return create_token(lambda *command: docker("run", "--rm", *app_args(database), PROD_IMAGE, *command))


def wrk(database, path, seconds, connections, token, timeout_s=WRK_TIMEOUT_S):
    url = f"http://127.0.0.1:8000{path}"
    network = ["--network", f"container:{database}"]
    # Sent to the bare app too, so that both get the same request.
    header = ["-H", f"Authorization: Bearer {token}"]
    docker("run", "--rm", *network, WRK_IMAGE, *header, "-t2", "-c4", "-d2s", url)  # warm-up: imports, connections
    load = ["-t2", f"-c{connections}", f"-d{seconds}s", f"--timeout={timeout_s}s", "--script", "/latency.lua"]
    output = docker("run", "--rm", *network, *LATENCY_MOUNT, WRK_IMAGE, *header, *load, url).stdout
    failures = wrk_failures(output)
    return {
        "requests_per_s": round(float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))),
        **{f"{name}_ms": latency(output, percentile) for name, percentile in LATENCIES.items()},
        "non_2xx": failures.pop("non_2xx"),
        # Connections closed without an answer, refused, or left unanswered past the timeout.
        "socket_errors": sum(failures.values()),
    }


# The percentiles bench/latency.lua prints, by the name they have in the results.
LATENCIES = {"p50": "50", "p99": "99", "p99_9": "99.9"}


def latency(output, percentile):
    """Milliseconds at the percentile, from bench/latency.lua's line in wrk's output."""
    found = re.search(rf"^latency p{re.escape(percentile)} (\d+)$", output, re.MULTILINE)
    if not found:
        raise SystemExit(f"no p{percentile} latency in wrk's output:\n{output}")
    return round(int(found[1]) / 1000, 1)


def serve(database, port, server, app, *mounts):
    """Starts the server in the database's network namespace; returns the container's name."""
    command = server["command"](app)
    name = docker("run", "--detach", *app_args(database, server["env"]), *mounts, server["image"], *command).stdout
    wait_for_http(f"http://127.0.0.1:{port}/healthz", timeout=60)
    return name


def throughput(database, port, servers, seconds, connections, rounds, token):
    """Each server's API (at both numbers of connections) and bare app, once per round, in an order that rotates.

    On a machine doing other work too, load comes and goes: rounds spread it over
    every server, and each row reports the medians of its rounds.
    """
    samples = {index: [] for index in range(len(servers))}
    for round_number in range(rounds):
        start = round_number * len(servers) // rounds
        order = [*range(start, len(servers)), *range(start)]
        for index in order:
            server = servers[index]
            label = f"{server['server']}, {server['processes']} x {server['threads']}"
            print(f"loadtest: round {round_number + 1} of {rounds}: {label}", file=sys.stderr)
            app = serve(database, port, server, API_APP)
            seed(port, token)
            api = {count: wrk(database, "/api/notes/", seconds, count, token) for count in connections}
            docker("rm", "--force", app)
            app = serve(database, port, server, BARE_APP, *HELLO_MOUNT)
            hello = wrk(database, "/", seconds, connections[0], token)
            docker("rm", "--force", app)
            samples[index].append({"api": api[connections[0]], "api_many": api[connections[1]], "hello": hello})
    return [
        {
            **{key: server[key] for key in SERVER_KEYS},
            **{kind: medians([sample[kind] for sample in samples[index]]) for kind in ("api", "api_many", "hello")},
            # Each round's API against the bare app measured right after it, then the median.
            "api_to_bare": statistics.median(
                sample["api"]["requests_per_s"] / sample["hello"]["requests_per_s"] for sample in samples[index]
            ),
            "rounds": samples[index],
        }
        for index, server in enumerate(servers)
    ]


# What describes a server in the results and the tables.
SERVER_KEYS = ("server", "processes", "threads", "request_log")


def medians(runs):
    """The median of each measure over the runs; failures are summed."""
    return {
        "requests_per_s": round(statistics.median(run["requests_per_s"] for run in runs)),
        **{f"{name}_ms": round(statistics.median(run[f"{name}_ms"] for run in runs), 1) for name in LATENCIES},
        "non_2xx": sum(run["non_2xx"] for run in runs),
        "socket_errors": sum(run["socket_errors"] for run in runs),
    }


def burst(database, port, servers, seconds, connections, token):
    """One round of the API at many connections at once: does each server answer them all?"""
    results = []
    for server in servers:
        print(f"loadtest: {connections} connections: {server['server']}", file=sys.stderr)
        app = serve(database, port, server, API_APP)
        seed(port, token)
        results.append({**{key: server[key] for key in SERVER_KEYS},
                        "api": wrk(database, "/api/notes/", seconds, connections, token)})  # fmt: skip
        docker("rm", "--force", app)
    return results


def floor(database, port, server, seconds, connections, rounds, token):
    """`GET /api/notes/<id>/` from the API and from bench/floor.py, the same server for both, alternating by round.

    The share is the median of each round's API against the floor measured right after it.
    """
    samples = []
    for round_number in range(rounds):
        print(f"loadtest: round {round_number + 1} of {rounds}: the API against the bare-Django floor", file=sys.stderr)
        app = serve(database, port, server, API_APP)
        seed(port, token)
        first = http("GET", f"http://127.0.0.1:{port}/api/notes/?limit=1", token=token)[2]["results"][0]
        path = f"/api/notes/{first['id']}/"
        api = wrk(database, path, seconds, connections, token)
        docker("rm", "--force", app)
        app = serve(database, port, server, FLOOR_APP, *FLOOR_MOUNT)
        bare = wrk(database, path, seconds, connections, token)
        docker("rm", "--force", app)
        samples.append({"api": api, "floor": bare})
    return {
        **{key: server[key] for key in SERVER_KEYS},
        "api": medians([sample["api"] for sample in samples]),
        "floor": medians([sample["floor"] for sample in samples]),
        "api_to_floor": statistics.median(s["api"]["requests_per_s"] / s["floor"]["requests_per_s"] for s in samples),
        "rounds": samples,
    }


def profile(database, token):
    print("loadtest: profile of GET /api/notes/", file=sys.stderr)
    command = ["python", "request_profile.py"]
    env = app_args(database, {"API_TOKEN": token})
    output = docker("run", "--rm", *env, *PROFILE_MOUNT, PROD_IMAGE, *command).stdout
    return json.loads(output)


def start_up(database, port, runs, token):
    """Median seconds from `docker run` to the first 200, run as in production (read-only root)."""
    print("loadtest: start-up", file=sys.stderr)
    times = {PROD_IMAGE: [], NO_BYTECODE_IMAGE: []}
    for _ in range(runs):
        for image, samples in times.items():
            started = time.monotonic()
            name = docker("run", "--detach", "--read-only", "--tmpfs", "/tmp", *app_args(database), image).stdout
            first_ok(f"http://127.0.0.1:{port}/healthz")
            healthz = time.monotonic() - started
            first_ok(f"http://127.0.0.1:{port}/api/notes/", token)
            samples.append((healthz, time.monotonic() - started))
            docker("rm", "--force", name)
    return {
        label: {
            "healthz_s": round(statistics.median(sample[0] for sample in times[image]), 2),
            "api_s": round(statistics.median(sample[1] for sample in times[image]), 2),
            "bytecode_mb": bytecode_mb(image),
        }
        for label, image in [("compiled at build time", PROD_IMAGE), ("not compiled", NO_BYTECODE_IMAGE)]
    }


def bytecode_mb(image):
    """MB of bytecode in the image outside the venv (pip compiles the venv's packages as it installs them)."""
    sizes = ["find", "/", "-xdev", "-path", "/opt/venv", "-prune", "-o", "-name", "*.pyc", "-printf", "%s\\n"]
    output = docker("run", "--rm", "--user", "root", image, *sizes).stdout
    return round(sum(int(size) for size in output.split()) / 1e6, 1)


def run(args):
    port = args.port
    database = start_database(port)
    try:
        docker("run", "--rm", *app_args(database), PROD_IMAGE, "python", "manage.py", "migrate", "--no-input")
        token = make_token(database)
        cores = os.cpu_count()
        servers = []
        # Like for like: every server with a log line per request, then every one without.
        for request_log in (True, False):
            servers += [uwsgi(*config, request_log=request_log) for config in [(), *args.configs]]
            servers += [gunicorn(2 * cores, threads, request_log) for threads in (1, args.gunicorn_threads)]
            servers.append(granian(cores, request_log))
        # What keep-alive and the router are worth, at the defaults.
        at_defaults = [uwsgi(keepalive=False), uwsgi(router=False)]
        servers += at_defaults
        # What the metrics cost (app/api/metrics.py): every other uWSGI row counts and times each request.
        servers.append(uwsgi(metrics=False))
        connections = (args.connections, args.many_connections)
        return {
            "throughput": throughput(database, port, servers, args.seconds, connections, args.rounds, token),
            "burst": burst(database, port, [uwsgi(), *at_defaults], args.burst_seconds, args.burst, token),
            "floor": floor(database, port, uwsgi(), args.seconds, args.connections, args.rounds, token),
            "profile": profile(database, token),
            "start_up": start_up(database, port, args.start_up_runs, token),
        }
    finally:
        docker("rm", "--force", "--volumes", database, check=False)


def seed(port, token, notes=20):
    """Enough notes for a full first page, added once."""
    missing = notes - http("GET", f"http://127.0.0.1:{port}/api/notes/?limit=1", token=token)[2]["count"]
    for number in range(missing):
        note = {"title": f"note {number}", "body": "lorem ipsum " * 20}
        assert http("POST", f"http://127.0.0.1:{port}/api/notes/", note, token=token)[0] == 201


def uwsgi_defaults():
    """(processes, threads) as config/uwsgi.ini sets them."""
    ini = (REPO / "config" / "uwsgi.ini").read_text()
    return tuple(int(re.search(rf"^{option} = (\d+)$", ini, re.MULTILINE)[1]) for option in ("processes", "threads"))


def configuration(text):
    processes, threads = text.split("x")
    return int(processes), int(threads)


def build_images():
    """The prod image and wrk's, which memory.py uses too."""
    docker("build", "--quiet", "--target", "prod", "--tag", PROD_IMAGE, str(REPO))
    build_wrk_image(WRK_IMAGE)


def build_variant_images():
    """The prod image with gunicorn and granian added, and without its bytecode: the load test's alone."""
    images = ["--build-arg", f"PROD_IMAGE={PROD_IMAGE}", "--build-arg", f"PYTHON_IMAGE={dockerfile_base_image('base')}"]
    for dockerfile, tag in [("peers.Dockerfile", PEERS_IMAGE), ("no-bytecode.Dockerfile", NO_BYTECODE_IMAGE)]:
        docker("build", "--quiet", *images, "--file", str(BENCH / dockerfile), "--tag", tag, str(BENCH))


def throughput_table(runs, connections):
    header = ["server", "processes x threads", "request log", *measure_header("API")]
    header += [*measure_header(f"API, {connections[1]} conn."), *measure_header("bare")]
    header += ["API / bare", "failed: non-2xx / socket errors"]
    rows = [
        [*server_cells(r), *measure_cells(r["api"]), *measure_cells(r["api_many"]), *measure_cells(r["hello"])]
        + [f"{r['api_to_bare']:.0%}", failed_cell(r["api"], r["api_many"], r["hello"])]
        for r in runs
    ]
    return markdown_table(header, rows)


def burst_table(runs):
    header = ["server", "processes x threads", "request log", *measure_header("API"), "non-2xx", "socket errors"]
    rows = [[*server_cells(r), *measure_cells(r["api"]), r["api"]["non_2xx"], r["api"]["socket_errors"]] for r in runs]
    return markdown_table(header, rows)


def floor_table(run):
    header = [
        "`GET /api/notes/<id>/` from",
        *measure_header(""),
        "share of the floor",
        "failed: non-2xx / socket errors",
    ]
    rows = [
        ["the API (`config.wsgi`)", *measure_cells(run["api"]), f"{run['api_to_floor']:.0%}", failed_cell(run["api"])],
        ["bench/floor.py, bare Django", *measure_cells(run["floor"]), "100%", failed_cell(run["floor"])],
    ]
    return markdown_table(header, rows)


def server_cells(run):
    return [run["server"], f"{run['processes']} x {run['threads']}", "yes" if run["request_log"] else "no"]


def measure_header(what):
    return [f"{what} req/s".strip(), f"{what} p50 / p99 / p99.9 ms".strip()]


def measure_cells(measure):
    return [measure["requests_per_s"], " / ".join(str(measure[f"{name}_ms"]) for name in LATENCIES)]


def failed_cell(*measures):
    return f"{sum(m['non_2xx'] for m in measures)} / {sum(m['socket_errors'] for m in measures)}"


def failures(results):
    """Every request that failed, in any measurement."""
    measures = [r[kind] for r in results["throughput"] for kind in ("api", "api_many", "hello")]
    measures += [r["api"] for r in results["burst"]]
    measures += [results["floor"][kind] for kind in ("api", "floor")]
    return sum(m["non_2xx"] + m["socket_errors"] for m in measures)


def profile_table(profile):
    total = profile["total_ms"]
    rows = [[layer, f"{ms:.3f}", f"{ms / total:.0%}"] for layer, ms in profile["layers_ms"].items()]
    rows.append(["total, in Django", f"{total:.3f}", "100%"])
    return markdown_table(["layer", "ms per request", "share"], rows)


def start_up_table(start_up):
    header = ["bytecode", "to /healthz 200", "to API 200", "bytecode outside the venv"]
    rows = [
        [label, f"{r['healthz_s']} s", f"{r['api_s']} s", f"{r['bytecode_mb']} MB"] for label, r in start_up.items()
    ]
    return markdown_table(header, rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--configs", type=lambda s: [configuration(c) for c in s.split(",")], default="2x1,4x1,8x1",
        help="uWSGI processes x threads besides its defaults",
    )  # fmt: skip
    parser.add_argument("--gunicorn-threads", type=int, default=4, help="threads per gthread worker")
    parser.add_argument("--seconds", type=int, default=4, help="measured seconds per run")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each server, interleaved; medians reported")
    parser.add_argument("--connections", type=int, default=16, help="concurrent wrk connections")
    parser.add_argument("--many-connections", type=int, default=64, help="wrk connections, the API's second run")
    parser.add_argument("--burst", type=int, default=512, help="wrk connections of the burst round")
    parser.add_argument("--burst-seconds", type=int, default=10, help="measured seconds of the burst round")
    parser.add_argument("--start-up-runs", type=int, default=5, help="start-ups measured per image")
    parser.add_argument("--port", type=int, default=18080, help="loopback port for seeding and health checks")
    args = parser.parse_args()

    build_images()
    build_variant_images()
    results = run(args)
    connections = (args.connections, args.many_connections)
    settings = {"seconds": args.seconds, "rounds": args.rounds, "connections": connections, "wrk_threads": 2}
    info = machine()
    path = save("loadtest", {"machine": info, "settings": settings, **results})

    print(throughput_table(results["throughput"], connections))
    print(f"\n`GET /api/notes/` (20 notes) at {args.connections} and at {args.many_connections} connections, and")
    print(f"bench/hello.py at {args.connections}, each after a 2 s warm-up, {args.rounds} rounds with the servers in a")
    print(f"rotating order; medians, failures summed. wrk -t2 -d{args.seconds}s --timeout={WRK_TIMEOUT_S}s with")
    print(f"bench/latency.lua. {describe(info)}\n")
    print(burst_table(results["burst"]))
    print(f"\n`GET /api/notes/`, wrk -t2 -c{args.burst} -d{args.burst_seconds}s --timeout={WRK_TIMEOUT_S}s,")
    print("one round: a burst beyond what the workers serve at once.\n")
    print(floor_table(results["floor"]))
    print(f"\nOne note by id, uWSGI at its defaults for both, wrk -t2 -c{args.connections} -d{args.seconds}s,")
    print(f"{args.rounds} rounds alternating; the share is the median of each round's.\n")
    profile = results["profile"]
    print(profile_table(profile))
    print(
        f"\nOne `GET /api/notes/` ({profile['notes_per_page']} notes) in the prod image's Python, no HTTP server, "
        f"{profile['requests']} times. Per request: queries {profile['queries_per_request']:g}, "
        f"connection health checks {profile['health_checks_per_request']:g}, "
        f"token lookups {profile['token_lookups_per_request']:g}.\n"
    )
    print(start_up_table(results["start_up"]))
    print(f"\n`docker run --read-only` to the first 200, median of {args.start_up_runs}. Written to {path}.")
    if failures(results):
        raise SystemExit("some requests failed")


if __name__ == "__main__":
    main()
