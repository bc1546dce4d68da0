"""Prometheus metrics from the prod image's uWSGI, locked down as in production: every worker's count, on port 9100.

The harness image (the prod image with tests/harness's routes) runs with a
read-only root and a tmpfs /tmp, the only place prometheus-client's
multiprocess files can go. Each scrape is read with prometheus-client's own
parser. The requests are spread over several workers, so that a count kept in
one worker's memory, or lost with a worker, would show.
"""

import json
import re
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from docker_helpers import UWSGI_INI, docker, free_port, http, logs_once, tcp_sockets, uwsgi_option, wait_until_started
from prometheus_client.parser import text_string_to_metric_families

EXPORTER = re.search(r"^attach-daemon = python -m app\.server\.exporter (\d+) (\S+)$", UWSGI_INI, re.MULTILINE)
METRICS_PORT, STATS = int(EXPORTER[1]), EXPORTER[2]
MULTIPROCESS_DIR = re.search(r"^env = PROMETHEUS_MULTIPROC_DIR=(\S+)$", UWSGI_INI, re.MULTILINE)[1]
PROCESSES = int(uwsgi_option("processes"))
LOCKED_DOWN = ["--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL", "--security-opt", "no-new-privileges"]
# Requests at once: twice the workers, so that every worker has some.
CONNECTIONS = 2 * PROCESSES
REQUESTS = 200
RECORDS = "/harness/records/"
# The exporter starts beside the workers; a second for a loaded machine.
EXPORTER_STARTS_WITHIN = 5
# No record has this id, and no label may ever hold it.
ABSENT_ID = 987654321


@pytest.fixture
def start(run_harness):
    """Starts the harness image locked down, port 9100 published too; returns (name, API URL, metrics URL)."""

    def run(*env):
        port = free_port()
        name, url = run_harness(extra_args=[*LOCKED_DOWN, "-p", f"127.0.0.1:{port}:{METRICS_PORT}", *env])
        wait_until_started(name, url)
        return name, url, f"http://127.0.0.1:{port}"

    return run


def scrape(metrics_url):
    """Every sample of a scrape of /metrics, read by prometheus-client's parser: {(name, labels): value}."""
    deadline = time.monotonic() + EXPORTER_STARTS_WITHIN
    while True:
        try:
            with urllib.request.urlopen(f"{metrics_url}/metrics", timeout=5) as response:
                text = response.read().decode()
            break
        except (urllib.error.URLError, ConnectionError):
            assert time.monotonic() < deadline, f"nothing served {metrics_url}/metrics"
            time.sleep(0.1)
    families = text_string_to_metric_families(text)
    return {(sample.name, frozenset(sample.labels.items())): sample.value for f in families for sample in f.samples}


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0)


def send(url, token, count, path=RECORDS):
    """`count` GETs, CONNECTIONS at a time, each on a connection of its own; all must answer 200."""
    with ThreadPoolExecutor(CONNECTIONS) as pool:
        statuses = list(pool.map(lambda _: http("GET", f"{url}{path}", token=token)[0], range(count)))
    assert statuses == [200] * count


def workers(name):
    """The workers as uWSGI's master lists them (pid, requests served), from its stats server in the container."""
    script = f"import json; from app.server.exporter import uwsgi_stats; print(json.dumps(uwsgi_stats({STATS!r})))"
    return json.loads(docker("exec", name, "python", "-c", script).stdout)["workers"]


def multiprocess_files(name):
    return sorted(docker("exec", name, "ls", MULTIPROCESS_DIR).stdout.split())


def test_a_scrape_counts_every_request_of_every_worker_on_its_route_and_status(start, token):
    name, url, metrics_url = start()

    send(url, token, REQUESTS)

    served = [worker["requests"] for worker in workers(name) if worker["requests"]]
    # One worker's share would fall short of the whole.
    assert len(served) > 1, f"the requests reached one worker only: {served}"
    samples = scrape(metrics_url)
    labels = {"method": "GET", "route": RECORDS, "status": "200"}
    assert value(samples, "http_requests_total", **labels) == REQUESTS
    assert value(samples, "http_request_duration_seconds_count", **labels) == REQUESTS
    assert value(samples, "uwsgi_workers") == PROCESSES


def test_no_count_goes_down_when_a_worker_is_killed_and_respawned(start, token):
    name, url, metrics_url = start()
    send(url, token, REQUESTS)
    before, files = scrape(metrics_url), multiprocess_files(name)
    worker = next(worker for worker in workers(name) if worker["requests"])
    since = time.time()

    docker("exec", name, "python", "-c", f"import os, signal; os.kill({worker['pid']}, signal.SIGKILL)")

    logs_once(name, lambda lines: any(f"Respawned uWSGI worker {worker['id']} " in line for line in lines), since)
    after = scrape(metrics_url)
    went_down = {key: (was, after.get(key)) for key, was in before.items() if after.get(key, 0) < was}
    assert went_down == {}
    assert value(after, "uwsgi_worker_respawns_total") == value(before, "uwsgi_worker_respawns_total") + 1
    assert value(after, "uwsgi_workers") == PROCESSES
    # The new worker counts on from the one it replaced, in the same files: one per worker id and kind,
    # however often workers restart (the probes' worker adds its own once the HEALTHCHECK asks it).
    send(url, token, REQUESTS)
    counted = value(scrape(metrics_url), "http_requests_total", method="GET", route=RECORDS, status="200")
    assert counted == 2 * REQUESTS
    by_worker_id = {f"{kind}_{worker}.db" for kind in ("counter", "histogram") for worker in range(1, PROCESSES + 1)}
    assert set(files) <= set(multiprocess_files(name)) <= by_worker_id, multiprocess_files(name)


def test_a_route_with_an_id_is_labelled_by_its_pattern_and_no_label_holds_an_id(start, token):
    name, url, metrics_url = start()
    status, _, record = http("POST", f"{url}{RECORDS}", {"from": "the metrics test"}, token=token)
    assert status == 201, record

    answers = [
        http("GET", f"{url}{RECORDS}{record['id']}/", token=token)[0],
        http("DELETE", f"{url}{RECORDS}{record['id']}/", token=token)[0],
        http("GET", f"{url}{RECORDS}{ABSENT_ID}/", token=token)[0],
        http("GET", f"{url}/harness/nowhere/{ABSENT_ID}/", token=token)[0],
    ]

    assert answers == [200, 204, 404, 404]
    samples = scrape(metrics_url)
    assert [labels for _, labels in samples if any(str(ABSENT_ID) in label for _, label in labels)] == []
    item = f"{RECORDS}{{record_id}}/"
    routes = {dict(labels).get("route") for _, labels in samples} - {None}
    assert routes <= {RECORDS, item, "unmatched", "/healthz"}, routes
    for method, route, status in [("GET", item, "200"), ("DELETE", item, "204"), ("GET", item, "404")]:
        assert value(samples, "http_requests_total", method=method, route=route, status=status) == 1
    assert value(samples, "http_requests_total", method="GET", route="unmatched", status="404") == 1


def test_the_api_port_serves_no_metrics(start, token):
    _, url, metrics_url = start()

    status, headers, body = http("GET", f"{url}/metrics", token=token)

    assert (status, headers["Content-Type"]) == (404, "application/problem+json"), body
    assert "http_requests_total" in {name for name, _ in scrape(metrics_url)}


def test_the_database_deadline_and_an_unreachable_database_are_counted_apart(start, token, database):
    _, url, metrics_url = start()
    send(url, token, 1)

    docker("pause", database.name)
    try:
        during_the_hang = http("GET", f"{url}{RECORDS}", token=token, timeout=30)[0]
    finally:
        docker("unpause", database.name)
    database.stop()
    try:
        while_stopped = http("GET", f"{url}{RECORDS}", token=token)[0]
    finally:
        database.start()

    assert (during_the_hang, while_stopped) == (503, 503)
    samples = scrape(metrics_url)
    assert value(samples, "database_unavailable_responses_total", reason="deadline") == 1
    assert value(samples, "database_unavailable_responses_total", reason="error") == 1
    assert value(samples, "http_requests_total", method="GET", route=RECORDS, status="503") == 2


def test_metrics_off_serves_no_port_and_writes_no_files(start):
    on, _, _ = start()
    off, _, _ = start("-e", "METRICS=off")

    listening = {name: {port for port, state, _ in tcp_sockets(name) if state == "0A"} for name in (on, off)}

    assert METRICS_PORT in listening[on]
    assert METRICS_PORT not in listening[off]
    assert docker("exec", off, "ls", MULTIPROCESS_DIR, check=False).returncode != 0
