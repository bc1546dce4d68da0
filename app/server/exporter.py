"""The metrics exporter: prometheus-client's HTTP server, serving on its own port what every uWSGI worker counted.

uWSGI's master starts this beside the workers (config/uwsgi.ini), and starts
it again if it ends. Each scrape sums the files the workers write in
PROMETHEUS_MULTIPROC_DIR (app/api/metrics.py), those of workers recycled or
killed since the start included, and adds what uWSGI's master knows of its
workers, read from its stats server: how many run, how many were started
again, how many requests harakiri killed. It runs without Django, and serves
no API: the API's port and its clients never see the metrics.

Run as `python -m app.server.exporter PORT STATS`, STATS uWSGI's stats server
as uWSGI writes its address (`@name`, an abstract socket).
"""

import json
import socket
import sys

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

STATS_TIMEOUT_SECONDS = 2


def uwsgi_stats(address):
    """The JSON uWSGI's stats server writes to each connection before closing it."""
    received = []
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(STATS_TIMEOUT_SECONDS)
        # uWSGI's abstract names carry a trailing NUL: "@name" is "\0name\0".
        connection.connect("\0" + address.removeprefix("@") + "\0")
        while chunk := connection.recv(65536):
            received.append(chunk)
    return json.loads(b"".join(received))


class UwsgiWorkers:
    """A collector of what uWSGI's master counts of its workers, which no worker could count itself."""

    def __init__(self, address):
        self.address = address

    def collect(self):
        workers = uwsgi_stats(self.address)["workers"]
        running = sum(1 for worker in workers if worker["pid"] > 0)
        # uWSGI counts every start of a worker, its first included.
        respawns = sum(max(worker["respawn_count"] - 1, 0) for worker in workers)
        yield GaugeMetricFamily("uwsgi_workers", "uWSGI worker processes running.", running)
        yield CounterMetricFamily(
            "uwsgi_worker_respawns", "Workers started again: recycled, killed by harakiri, or crashed.", respawns
        )
        harakiri = sum(worker["harakiri_count"] for worker in workers)
        yield CounterMetricFamily("uwsgi_harakiri", "Requests harakiri killed, with their worker.", harakiri)


def serve(port, stats):
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    registry.register(UwsgiWorkers(stats))
    _, thread = start_http_server(port, registry=registry)
    thread.join()


if __name__ == "__main__":
    serve(int(sys.argv[1]), sys.argv[2])
