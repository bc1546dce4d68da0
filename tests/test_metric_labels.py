"""The labels of the request metrics, as counted in the test's own process: a bounded set, whatever clients send.

Counted across uWSGI's workers and served on port 9100: tests/host/test_metrics.py.
"""

import pytest
from django.test import Client
from prometheus_client import REGISTRY

pytestmark = pytest.mark.urls("harness.urls")
ITEM = "/harness/records/{record_id}/"


def requests(method, route, status):
    return REGISTRY.get_sample_value("http_requests_total", {"method": method, "route": route, "status": status}) or 0


def label_values():
    return {value for metric in REGISTRY.collect() for sample in metric.samples for value in sample.labels.values()}


def test_a_path_with_an_id_is_counted_under_its_route_pattern(api):
    before = requests("GET", ITEM, "404")

    api.get("/harness/records/987654321/")

    assert requests("GET", ITEM, "404") == before + 1
    assert [value for value in label_values() if "987654321" in value] == []


def test_a_path_no_route_matches_is_counted_under_one_label(api):
    before = requests("GET", "unmatched", "404")

    api.get("/harness/nowhere/987654321/")
    api.get("/harness/elsewhere/")

    assert requests("GET", "unmatched", "404") == before + 2


def test_the_probes_are_counted_under_their_paths(anonymous):
    before = requests("GET", "/healthz", "200")

    anonymous.get("/healthz")

    assert requests("GET", "/healthz", "200") == before + 1


def test_a_method_outside_http_s_own_is_counted_as_other(api):
    before = requests("other", "/harness/records/", "405")

    assert api.client.generic("BREW", "/harness/records/").status_code == 405

    assert requests("other", "/harness/records/", "405") == before + 1
    assert "BREW" not in label_values()


def test_metrics_off_counts_nothing(settings):
    settings.METRICS = "off"
    before = requests("GET", "/healthz", "200")

    Client().get("/healthz")

    assert requests("GET", "/healthz", "200") == before
