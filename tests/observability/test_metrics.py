"""GET /metrics and the HTTP metrics the middleware records."""

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from sensorgrid.observability.routes import normalize

pytestmark = pytest.mark.django_db


def samples(body: bytes, name: str) -> dict[tuple, float]:
    """{label items: value} of the samples called ``name`` in a text exposition."""
    found = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def requests_total(**labels) -> float:
    return REGISTRY.get_sample_value("sensorgrid_http_requests_total", labels) or 0.0


def test_metrics_counts_a_request_under_its_route_template_not_its_path(client):
    labels = {"method": "GET", "route": "api/v1/nodes/<pk>/", "status": "404"}
    before = requests_total(**labels)
    assert client.get("/api/v1/nodes/987654/").status_code == 404
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert "no-cache" in response["Cache-Control"]
    counted = samples(response.content, "sensorgrid_http_requests_total")
    assert counted[tuple(sorted(labels.items()))] == before + 1
    assert "987654" not in response.content.decode()


def test_an_unresolved_path_is_counted_as_unmatched(client):
    labels = {"method": "GET", "route": "unmatched", "status": "404"}
    before = requests_total(**labels)
    client.get("/no/such/page/12345")
    assert requests_total(**labels) == before + 1


def test_latency_is_observed_per_route(client):
    labels = {"method": "GET", "route": "healthz"}
    before = REGISTRY.get_sample_value("sensorgrid_http_request_seconds_count", labels) or 0.0
    client.get("/healthz")
    assert REGISTRY.get_sample_value("sensorgrid_http_request_seconds_count", labels) == before + 1


def test_an_invented_method_does_not_become_a_label(client):
    before = requests_total(method="other", route="healthz", status="405")
    client.generic("BREW", "/healthz")
    assert requests_total(method="other", route="healthz", status="405") == before + 1


def test_metrics_answers_head_refuses_post_and_does_not_count_itself(client):
    before = requests_total(method="GET", route="metrics", status="200")
    assert client.head("/metrics").status_code == 200
    assert client.post("/metrics").status_code == 405
    client.get("/metrics")
    assert requests_total(method="GET", route="metrics", status="200") == before == 0


def test_openmetrics_is_served_when_asked_for(client):
    response = client.get("/metrics", HTTP_ACCEPT="application/openmetrics-text")
    assert response["Content-Type"].startswith("application/openmetrics-text")
    assert response.content.rstrip().endswith(b"# EOF")


@pytest.mark.parametrize(
    ("route", "expected"),
    [
        ("api/v1/^nodes/(?P<pk>[^/.]+)/$", "api/v1/nodes/<pk>/"),
        ("api/v1/nodes/<int:pk>/timeseries/", "api/v1/nodes/<pk>/timeseries/"),
        (r"api/v1/^nodes\.(?P<format>[a-z0-9]+)/?$", "api/v1/nodes.<format>/?"),
        ("a/(?P<x>(b|c)+)/d", "a/<x>/d"),
        ("healthz", "healthz"),
    ],
)
def test_route_templates_are_written_one_way(route, expected):
    assert normalize(route) == expected
