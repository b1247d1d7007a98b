"""Grafana on SensorGrid's REST API (docs/grafana.md): the Infinity data source of
deploy/grafana/provisioning/datasources/sensorgrid-api.yaml and the dashboard
deploy/grafana/sensor-api.json, tested with recorded requests.

tests/deploy/grafana_infinity_requests.json holds the requests Infinity makes for each
panel (URL with its query string, headers), built as the plugin builds them. The test
checks that the provisioned files still produce exactly those requests, replays them
against the Django test client with a real API token, and checks that each answer has
what Infinity's JSON parser needs: the root selector leads to a list of rows, every
column's selector is in every row, timestamps are RFC 3339 (Go's time.Parse) and
numbers are numbers. Another organization's token gets the 404.
"""

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
import yaml
from django.urls import resolve
from rest_framework.test import APIClient

from sensorgrid.accounts.models import ApiToken
from sensorgrid.ingest import writer
from sensorgrid.ingest.validate import Row
from sensorgrid.inventory.models import Quantity

GRAFANA = Path(__file__).resolve().parents[2] / "deploy" / "grafana"
DATASOURCE = GRAFANA / "provisioning" / "datasources" / "sensorgrid-api.yaml"
DASHBOARD = GRAFANA / "sensor-api.json"
RECORDED = Path(__file__).with_name("grafana_infinity_requests.json")
#: Infinity's Accept header for JSON queries (pkg/infinity/headers.go)
JSON_ACCEPT = "application/json;q=0.9,text/plain"
#: RFC 3339, what Go's time.Parse reads by default for a "timestamp" column
RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")
START = datetime(2026, 12, 1, tzinfo=UTC)


def datasource() -> dict:
    [source] = yaml.safe_load(DATASOURCE.read_text())["datasources"]
    return source


def recorded() -> dict:
    return json.loads(RECORDED.read_text())


def interpolate(text: str, variables: dict[str, str]) -> str:
    """Grafana's ${name} template variables, as the dashboard substitutes them."""
    return re.sub(r"\$\{(\w+)\}", lambda m: variables[m.group(1)], text)


def infinity_request(source: dict, target: dict, variables: dict[str, str]) -> dict:
    """The request Infinity makes for ``target`` (pkg/infinity/request.go: GetQueryURL,
    the header modifiers of headers.go)."""
    url = interpolate(target["url"], variables)
    if not url.startswith(source["url"]):
        url = source["url"] + url
    params = [
        (p["key"], interpolate(p["value"], variables)) for p in target["url_options"]["params"]
    ]
    if params:  # url.Values.Encode: sorted by key
        url += "?" + urlencode(sorted(params))
    header = source["jsonData"]["httpHeaderName1"]
    return {
        "method": target["url_options"].get("method", "GET"),
        "url": url,
        "headers": {"Accept": JSON_ACCEPT, header: "Token REDACTED"},
    }


def select(document, path: str):
    """A gjson path (the backend parser's root selector): dot-separated keys and indexes."""
    for key in path.split(".") if path else []:
        document = document[int(key)] if isinstance(document, list) else document[key]
    return document


def test_the_data_source_is_infinity_with_the_token_header():
    source = datasource()
    assert source["type"] == "yesoreyeram-infinity-datasource"
    assert source["jsonData"]["httpHeaderName1"] == "Authorization"
    assert source["secureJsonData"]["httpHeaderValue1"] == "Token ${SENSORGRID_API_TOKEN}"
    # a base URL: Infinity prefixes every panel's path with it
    assert urlsplit(source["url"]).scheme == "http"


def test_the_token_is_sent_to_the_sensorgrid_web_service_only():
    """Infinity attaches the header only to a URL starting with an allowed host (its
    allowedHosts check is a prefix match): that list is SensorGrid's URL, and it covers
    every request the dashboard makes."""
    source = datasource()
    allowed = source["jsonData"].get("allowedHosts")
    assert allowed == [source["url"]]
    for request in recorded()["requests"]:
        assert any(request["url"].startswith(host) for host in allowed), request["url"]


def test_the_dashboard_makes_exactly_the_recorded_requests():
    source, fixture = datasource(), recorded()
    panels = json.loads(DASHBOARD.read_text())["panels"]
    made = []
    for panel in panels:
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == source["uid"]
            assert (target["type"], target["source"], target["parser"]) == (
                "json",
                "url",
                "backend",
            )
            made.append(
                {"panel": panel["id"], **infinity_request(source, target, fixture["variables"])}
            )
    assert made == fixture["requests"]
    for request in made:  # each names an endpoint of the API, not a typo
        assert resolve(urlsplit(request["url"]).path).url_name in {"node-timeseries", "node-latest"}


@pytest.fixture
def measured(world):
    """CO2 of alice's node every 10 minutes of the recorded day, through the ingest's
    writer (samples, rollups and the latest value, as ingested data has them)."""
    co2 = Quantity.objects.get(key="co2")
    writer.write(
        [
            Row(world.node_a.pk, co2.pk, START + timedelta(minutes=10 * n), 400.0 + n)
            for n in range(144)
        ]
    )
    return world.node_a


def replay(request: dict, node, user) -> object:
    """The recorded request with the test's node and a real token of ``user``."""
    parts = urlsplit(request["url"])
    path = parts.path.replace("/nodes/1/", f"/nodes/{node.pk}/")
    _, key = ApiToken.objects.issue(user, "grafana")
    headers = dict(request["headers"], Authorization=f"Token {key}")
    client = APIClient()
    return client.generic(
        request["method"],
        f"{path}?{parts.query}" if parts.query else path,
        headers=headers,
    )


def test_replayed_requests_answer_what_infinity_parses(measured, world):
    panels = {p["id"]: p for p in json.loads(DASHBOARD.read_text())["panels"]}
    for request in recorded()["requests"]:
        response = replay(request, measured, world.bob)  # an inspector's token
        assert response.status_code == 200, response.content
        assert response["Content-Type"].startswith("application/json")
        [target] = panels[request["panel"]]["targets"]
        rows = select(response.json(), target["root_selector"])
        assert isinstance(rows, list) and rows, request["url"]
        for row in rows:
            for column in target["columns"]:
                value = row[column["selector"]]
                if column["type"] == "timestamp":
                    assert RFC3339.fullmatch(value), value
                    assert START <= datetime.fromisoformat(value) < START + timedelta(days=1)
                elif column["type"] == "number":
                    assert isinstance(value, int | float) and not isinstance(value, bool)
                else:
                    assert isinstance(value, str)
    # the 15-minute averages of the day: 96 buckets, the first of 400 and 401 ppm
    first = replay(recorded()["requests"][0], measured, world.bob).json()["series"][0]["points"]
    assert len(first) == 96 and first[0] == {"ts": "2026-12-01T00:00:00Z", "value": 400.5}


def test_another_organizations_token_gets_the_404(measured, world):
    for request in recorded()["requests"]:
        assert replay(request, measured, world.charlie).status_code == 404
