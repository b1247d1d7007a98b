"""The radio view (issue 22) in a real Chromium (Playwright): TTN uplinks of the demo's
LoRaWAN sensor, heard by three gateways, go through the real webhook and pipeline; alice
reads RSSI, SNR and spreading factor per gateway in the node's Radio tab, follows a
gateway to its page, and switches the gateway and coverage layers on on the map. Another
organization's gateway page is a 404 for her. No page reports a script error or a
Content-Security-Policy violation.

Needs Debian's /usr/bin/chromium (.ci/run installs it) and the built assets (`make assets`).
"""

import json
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest

from tests.dashboard.liveserver import SensorGridServer, signing_in
from tests.dashboard.marks import BROWSER

pytestmark = BROWSER
LORA_NODE = "70b3d57ed0000001"  # the demo's "Hall LoRaWAN sensor" (riverside-school)
#: gateway id, its position, the RSSI it hears the sensor with
GATEWAYS = [
    ("gw-school-roof", (48.1380, 11.5700), -72),
    ("gw-townhall", (48.1374, 11.5755), -98),
    ("gw-harbour", (48.1429, 11.5561), -117),
]
UPLINKS = 4


def ttn_uplink(device: str, ts: datetime, counter: int, heard, located=None) -> dict:
    """A The Things Stack v3 uplink as its webhook posts it."""
    message = {
        "f_port": 1,
        "f_cnt": counter,
        "decoded_payload": {"temperature": 21.0 + counter / 10},
        "rx_metadata": [
            {
                "gateway_ids": {"gateway_id": gateway},
                "rssi": rssi - counter,
                "snr": 7.5 - counter,
                "location": {"latitude": position[0], "longitude": position[1]},
            }
            for gateway, position, rssi in heard
        ],
        "settings": {
            "data_rate": {"lora": {"spreading_factor": 7 + counter % 3}},
            "frequency": "868100000",
        },
    }
    if located:
        message["locations"] = {"frm-payload": {"latitude": located[0], "longitude": located[1]}}
    return {
        "end_device_ids": {"device_id": device, "dev_eui": device.upper()},
        "received_at": ts.isoformat().replace("+00:00", "Z"),
        "uplink_message": message,
    }


def webhook(server: SensorGridServer, key: str, document: dict) -> dict:
    request = urllib.request.Request(
        f"{server.base}/api/v1/ingest/ttn/",
        data=json.dumps(document).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def ingest_key(server: SensorGridServer, user: str) -> str:
    token = server.token(user)
    organization = server.call("/api/v1/organizations/", token=token)["results"][0]["id"]
    answer = server.call(
        "/api/v1/ingest-keys/", {"organization": organization, "name": "TTN"}, token=token
    )
    return answer["key"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = SensorGridServer(tmp_path_factory.mktemp("radio")).start()
    key = ingest_key(server, "alice")
    now = datetime.now(UTC).replace(microsecond=0)
    for n in range(UPLINKS):
        # every gateway hears the even uplinks, the roof gateway alone the odd ones;
        # the last uplink says where the device was (a walk across the square)
        heard = GATEWAYS if n % 2 == 0 else GATEWAYS[:1]
        located = (48.1405, 11.5650) if n == UPLINKS - 1 else None
        ts = now - timedelta(minutes=5 * (UPLINKS - n))
        answer = webhook(server, key, ttn_uplink(LORA_NODE, ts, n, heard, located))
        assert answer["accepted"] == 1, answer
    # charlie's organization hears its own node through a gateway of the same name
    theirs = ttn_uplink("demo-co2-101", now, 1, [("gw-townhall", (48.0, 11.0), -60)])
    assert webhook(server, ingest_key(server, "charlie"), theirs)["accepted"] == 1
    server.lora_node = server.node("alice", LORA_NODE)["id"]
    gateways = server.call("/api/geo/gateways/", token=server.token("charlie"))
    [server.charlie_gateway] = [g["id"] for g in gateways["features"]]
    yield server
    server.stop()


@pytest.fixture
def sign_in(browser, server):
    with signing_in(browser, server, viewport={"width": 1200, "height": 900}) as sign_in:
        yield sign_in


def test_radio_tab_charts_each_gateway_and_links_its_page(server, sign_in):
    page = sign_in("alice", f"/nodes/{server.lora_node}/radio/")
    rows = page.locator('table[data-list="gateways"] tbody tr')
    assert rows.count() == 3
    for key in ("rssi", "snr", "sf"):
        chart = page.locator(f"#radio-{key}-chart[data-drawn='true']")
        chart.wait_for()
        assert chart.get_attribute("data-series") == "3"
        legend = chart.locator(".u-legend").inner_text()
        assert all(gateway in legend for gateway, _, _ in GATEWAYS), legend
    # the roof gateway heard all four uplinks: a line of four points, no gap
    roof = page.evaluate(
        "() => JSON.parse(document.getElementById('radio-data').textContent)"
        ".per_gateway.gateways.find((g) => g.id === 'gw-school-roof').rssi"
    )
    assert roof == [-72.0, -73.0, -74.0, -75.0]

    page.get_by_role("link", name="gw-townhall").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "Gateway gw-townhall"
    assert page.locator("[data-health]").get_attribute("data-health") == "online"
    assert page.locator("[data-uplinks]").inner_text() == "2"
    assert page.locator("[data-devices]").inner_text() == "1"
    page.get_by_role("link", name="Hall LoRaWAN sensor").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/nodes/{server.lora_node}/radio/")


def test_map_shows_the_gateways_and_the_coverage_layer(server, sign_in):
    page = sign_in("alice", "/")
    page.locator("#map[data-ready='true']").wait_for()
    layers = page.locator(".leaflet-control-layers")
    layers.get_by_text("Gateways").click()
    markers = page.locator(".gateway-marker")
    markers.first.wait_for()
    assert sorted(m.get_attribute("data-gateway") for m in markers.all()) == sorted(
        g for g, _, _ in GATEWAYS
    )
    assert page.locator(".gateway-marker.online").count() == 3
    # Leaflet opens the popup on the marker's click (wherever the map has panned it)
    roof = page.locator(".leaflet-marker-icon:has([data-gateway='gw-school-roof'])")
    roof.dispatch_event("click")
    popup = page.locator(".leaflet-popup-content")
    popup.get_by_role("link").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Gateway gw-")

    page.goto(f"{server.base}/")
    page.locator("#map[data-ready='true']").wait_for()
    page.locator(".leaflet-control-layers").get_by_text("Radio coverage").click()
    page.locator("#map[data-coverage-cells]").wait_for()
    cells = int(page.locator("#map").get_attribute("data-coverage-cells"))
    assert cells >= 1  # how many depends on the zoom: the cells follow it
    assert page.locator(".leaflet-overlay-pane path").count() == cells
    assert page.locator(".coverage-legend").inner_text().startswith("Best RSSI")
    # in small cells: the Hall's site (three uplinks, seven receptions) and where the
    # last uplink was sent from, each with its best RSSI
    fine = server.call("/api/geo/coverage/?cell=0.0005", token=server.token("alice"))
    found = sorted(
        (c["properties"]["best_rssi"], c["properties"]["receptions"]) for c in fine["features"]
    )
    assert found == [(-75.0, 1), (-72.0, 7)]


def test_another_organizations_gateway_page_is_a_404(server, sign_in):
    page = sign_in("alice", "/")
    response = page.goto(f"{server.base}/gateways/{server.charlie_gateway}/")
    assert response.status == 404
    assert "gw-townhall" not in page.content()
