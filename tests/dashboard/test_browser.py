"""The dashboard in a real Chromium (Playwright) against `sensorgrid serve` (ASGI, so
/ws/live/ works) on SQLite demo data: live values without reload, the 404 page and
no live data for foreigners, and what anonymous visitors see.

Needs Debian's /usr/bin/chromium (.ci/run installs it) and the built assets (`make assets`).
"""

import json
import time
from datetime import UTC, datetime

import pytest

from tests.dashboard.liveserver import PASSWORD, SensorGridServer, wait_until
from tests.dashboard.marks import BROWSER

pytestmark = BROWSER

# In the demo data (sensorgrid/inventory/demo.py) alice's Riverside School publishes
# only "Classroom 1 monitor"; everything below is private.
PRIVATE_NAMES = [
    "Classroom 2",
    "Sports hall",
    "Hall LoRaWAN sensor",
    "demo-co2-002",
    "Harbour",
    "Meeting room",
    "Roof weather",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = SensorGridServer(tmp_path_factory.mktemp("dashboard")).start()
    yield server
    server.stop()


@pytest.fixture
def new_page(browser):
    contexts = []

    def make(server, user=None, path="/"):
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        if user:
            page.goto(f"{server.base}/login/?next={path}")
            page.get_by_label("Username").fill(user)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_load_state()
        else:
            page.goto(server.base + path)
        return page

    yield make
    for context in contexts:
        context.close()


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def test_alice_sees_an_ingested_value_and_chart_point_within_2s_without_reload(server, new_page):
    node = server.node("alice", "demo-co2-002")
    credential = server.credential("alice", node["id"])
    # A first value: a node that never sent anything has the Connect hint, not a chart.
    first = {"device": "demo-co2-002", "ts": now_iso(), "values": {"co2": 800}}
    assert server.ingest(credential, first)["accepted"] == 1
    page = new_page(server, "alice", f"/nodes/{node['id']}/")  # Latest: the tile
    assert page.url == f"{server.base}/nodes/{node['id']}/"
    assert page.get_by_role("heading", level=1).inner_text() == "Classroom 2 monitor"
    assert "Riverside School" in page.locator("nav[aria-label=Main]").inner_text()
    page.wait_for_selector('#live-state[data-state="connected"]', timeout=10_000)
    history = new_page(server, "alice", f"/nodes/{node['id']}/history/")  # the chart
    history.wait_for_selector('#live-state[data-state="connected"]', timeout=10_000)
    history.get_by_role("button", name="1 h").click()
    history.wait_for_function(
        # A function, not an expression: Playwright evaluates expressions with eval(),
        # which the Content-Security-Policy refuses.
        "() => !document.getElementById('chart-summary').textContent.startsWith('Loading')"
    )
    points = int(history.get_attribute("#chart", "data-points"))
    page.evaluate("window.notReloaded = true")
    history.evaluate("window.notReloaded = true")

    answer = server.ingest(
        credential,
        {"device": "demo-co2-002", "ts": now_iso(), "values": {"co2": 1234, "temperature": 21.5}},
    )
    assert answer["accepted"] == 2
    started = time.monotonic()
    co2 = page.locator('.tile [data-quantity="co2"]')
    page.wait_for_function(
        """() => {
            const row = document.querySelector('.tile [data-quantity="co2"] [data-value]');
            return row && row.textContent === '1234';
        }""",
        timeout=2000,
    )
    history.wait_for_function(
        f"() => document.getElementById('chart').dataset.points === '{points + 1}'",
        timeout=2000,
    )
    elapsed = time.monotonic() - started
    assert elapsed < 2.0
    assert co2.locator("[data-level]").inner_text() == "Fair"  # 1000–1400 ppm, as text
    assert page.locator('.tile [data-quantity="temperature"] [data-value]').inner_text() == "21.5"
    assert page.evaluate("window.notReloaded") is True
    assert history.evaluate("window.notReloaded") is True
    assert "1234" in history.inner_text("#chart-summary")
    assert page.errors == [] and history.errors == []


def test_charlie_gets_the_404_page_and_no_live_data_for_alices_node(server, new_page):
    node = server.node("alice", "demo-co2-002")
    credential = server.credential("alice", node["id"])
    page = new_page(server, "charlie")
    response = page.goto(f"{server.base}/nodes/{node['id']}/")
    assert response.status == 404
    assert page.get_by_role("heading", level=1).inner_text() == "Not found"
    assert "Classroom 2" not in page.content()
    assert "Harbour Offices" in page.locator("nav[aria-label=Main]").inner_text()

    page.evaluate(
        """(node) => new Promise((resolve) => {
            window.frames_ = [];
            const socket = new WebSocket(`ws://${location.host}/ws/live/`);
            socket.onmessage = (event) => {
                const frame = JSON.parse(event.data);
                window.frames_.push(frame);
                if (frame.type === 'error' || frame.type === 'subscribed') resolve();
            };
            socket.onopen = () => socket.send(JSON.stringify({subscribe: {node}}));
            setTimeout(resolve, 5000);
        })""",
        node["id"],
    )
    server.ingest(credential, {"device": "demo-co2-002", "ts": now_iso(), "values": {"co2": 999}})
    time.sleep(1.0)
    frames = page.evaluate("window.frames_")
    assert {"type": "error", "subscription": {"node": node["id"]}, "error": "not found"} in frames
    assert not [f for f in frames if f.get("node") == node["id"]], frames
    assert "999" not in json.dumps(frames)


def test_an_anonymous_visitor_sees_the_public_installation_and_nothing_else(server, new_page):
    public = server.node("alice", "demo-co2-001")
    credential = server.credential("alice", public["id"])
    server.ingest(credential, {"device": "demo-co2-001", "ts": now_iso(), "values": {"co2": 650}})
    page = new_page(server, None, "/public/")
    body = page.locator("main").inner_text()
    assert "Classroom 1 monitor" in body
    assert "Main building" in body and "Riverside School" in body
    assert "650" in page.locator('.tile [data-quantity="co2"]').inner_text()
    for name in PRIVATE_NAMES:
        assert name not in page.content(), name
    assert page.get_by_role("link", name="Log in").is_visible()

    # Live on the public page too: the public installation's node is subscribed.
    page.wait_for_selector('#live-state[data-state="connected"]', timeout=10_000)
    server.ingest(credential, {"device": "demo-co2-001", "ts": now_iso(), "values": {"co2": 1500}})
    page.wait_for_function(
        """() => document.querySelector('.tile [data-quantity="co2"] [data-value]')
                 .textContent === '1500'""",
        timeout=2000,
    )
    assert page.locator('.tile [data-quantity="co2"] [data-level]').inner_text() == "Poor"

    for path in ["/", f"/nodes/{public['id']}/"]:
        page.goto(server.base + path)
        assert page.url.startswith(f"{server.base}/login/?next="), path
    assert page.errors == []


def test_the_map_shows_the_sites_and_opens_a_popup_from_the_keyboard(server, new_page):
    page = new_page(server, "alice")
    page.wait_for_selector(".site-marker")
    assert page.locator(".leaflet-marker-icon").count() == 2  # Main building, Sports hall
    assert page.locator(".leaflet-tile").count() == 0  # no tiles: nothing from elsewhere
    marker = page.locator(".leaflet-marker-icon[title^='Main building']")
    marker.focus()
    page.keyboard.press("Enter")
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert "Classroom 1 monitor" in popup.inner_text()
    assert "Harbour" not in page.content()
    assert page.errors == []


LAYERS = """
from sensorgrid.geo.models import Feature, Layer
from sensorgrid.inventory.models import Site
from sensorgrid.tenancy.models import Organization

site = Site.objects.get(name="Main building")
for slug, key, name in [("riverside-school", "bike-stands", "Bike stands"),
                        ("harbour-offices", "harbour-cranes", "Harbour cranes")]:
    layer = Layer.objects.create(organization=Organization.objects.get(slug=slug), key=key,
                                 name=name, geometry_type="Point", style={"color": "#7a2d9c"})
    for n in range(3):
        x, y = site.longitude + 0.0004 * n, site.latitude + 0.0003
        Feature.objects.create(layer=layer, external_id=str(n), properties={"capacity": 10 + n},
                               geometry={"type": "Point", "coordinates": [x, y]},
                               min_x=x, max_x=x, min_y=y, max_y=y, fingerprint=str(n))
"""


def test_the_map_switches_open_data_layers_the_user_may_see(server, new_page):
    server.manage("shell", "-c", LAYERS)
    page = new_page(server, "alice")
    switcher = page.locator(".leaflet-control-layers")
    switcher.wait_for()
    assert "Bike stands" in switcher.inner_text()
    assert "Harbour cranes" not in switcher.inner_text()  # charlie's organization's layer
    page.get_by_label("Bike stands").check()
    features = page.locator(".leaflet-overlay-pane path.leaflet-interactive")
    wait_until(lambda: features.count() == 3, timeout=5)
    features.first.click(force=True)
    assert "capacity" in page.locator(".leaflet-popup-content").last.inner_text()
    page.get_by_label("Bike stands").uncheck()
    wait_until(lambda: features.count() == 0, timeout=5)
    assert page.errors == []


@pytest.fixture
def webhook_receiver():
    """A webhook receiver in this process that checks signatures as docs/alerts.md shows."""
    import hashlib
    import hmac
    import threading
    from http.server import BaseHTTPRequestHandler

    from tests.servers import http_server

    state = {"secret": b"", "valid": [], "invalid": [], "lock": threading.Lock()}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            header = self.headers["X-SensorGrid-Signature"]  # t=…,v1=…
            fields = dict(part.split("=", 1) for part in header.split(","))
            timestamp, key = fields["t"], self.headers["Idempotency-Key"]
            signed = timestamp.encode() + b"." + key.encode() + b"." + body
            expected = hmac.new(state["secret"], signed, hashlib.sha256).hexdigest()
            fresh = abs(time.time() - int(timestamp)) <= 300
            good = fresh and hmac.compare_digest(expected, fields["v1"])
            with state["lock"]:
                state["valid" if good else "invalid"].append((self.headers, body))  # any case
            self.send_response(200 if good else 401)
            self.end_headers()

        def log_message(self, *args):
            pass

    with http_server(Handler) as port:
        state["url"] = f"http://127.0.0.1:{port}/hook"
        yield state


def test_alice_creates_a_rule_and_its_alert_shows_live_notifies_and_is_acknowledged(
    server, new_page, webhook_receiver
):
    # "Done when" of the alerts issue, with an HTTP-ingested high value standing in for
    # the simulator's fault mode. Deliveries leave through the worker (Huey queue).
    server.start_worker()
    node = server.node("alice", "demo-co2-002")
    credential = server.credential("alice", node["id"])

    page = new_page(server, "alice", "/alerts/rules/new/")
    page.get_by_label("Name", exact=True).fill("Classroom CO2 too high")
    page.get_by_label("One node").check()
    option = page.locator("#id_node option", has_text="Classroom 2 monitor")
    page.get_by_label("Node", exact=True).select_option(option.get_attribute("value"))
    page.get_by_label("Threshold: a value above or below a limit").check()
    page.get_by_label("Quantity", exact=True).select_option("co2")
    page.get_by_label("Limit", exact=True).fill("1000")
    page.get_by_label("For (minutes)", exact=True).fill("0")
    page.get_by_label("Severity", exact=True).select_option("critical")
    page.get_by_label("Or a new webhook URL", exact=True).fill(webhook_receiver["url"])
    page.get_by_role("button", name="Create rule").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "Classroom CO2 too high"
    secret = page.get_by_role("textbox", name="Signing secret").input_value()
    assert len(secret) > 20
    webhook_receiver["secret"] = secret.encode()

    node_page = new_page(server, "alice", f"/nodes/{node['id']}/")  # its alerts are live too
    node_page.wait_for_selector('#live-state[data-state="connected"]', timeout=10_000)
    assert "No open alerts." in node_page.locator(".node-alerts").inner_text()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Alerts").click()
    page.wait_for_selector('#live-state[data-state="connected"]', timeout=10_000)
    assert "No open alerts." in page.locator("main").inner_text()
    time.sleep(0.5)  # the organization subscription is sent right after connecting
    page.evaluate("window.notReloaded = true")

    server.ingest(credential, {"device": "demo-co2-002", "ts": now_iso(), "values": {"co2": 1500}})
    row = page.locator('tbody[data-alerts="open"] tr[data-alert]')
    row.wait_for(timeout=5000)
    assert page.evaluate("window.notReloaded") is True
    text = row.inner_text()
    assert "Classroom 2 monitor" in text and "Classroom CO2 too high" in text
    assert "critical" in text and "Open" in text and "1500" in text
    assert row.get_by_role("link", name="Classroom 2 monitor").get_attribute("href") == (
        f"/nodes/{node['id']}/"
    )

    node_page.locator('.node-alerts tr[data-state="open"]').wait_for(timeout=5000)

    wait_until(lambda: webhook_receiver["valid"], timeout=30, interval=0.2)
    time.sleep(1.0)  # nothing else follows
    assert webhook_receiver["invalid"] == []
    ((headers, body),) = webhook_receiver["valid"]
    assert headers["X-SensorGrid-Event"] == "alert.opened"
    payload = json.loads(body)
    assert "1500" in json.dumps(payload)

    row.get_by_role("button", name="Acknowledge").click()
    page.wait_for_load_state()
    acknowledged = page.locator('tbody[data-alerts="open"] tr[data-state="acknowledged"]')
    acknowledged.wait_for(timeout=5000)
    assert "Acknowledged" in acknowledged.inner_text()
    assert "by alice" in acknowledged.inner_text()
    assert acknowledged.get_by_role("button", name="Acknowledge").count() == 0
    node_page.locator('.node-alerts tr[data-state="acknowledged"]').wait_for(timeout=5000)
    assert page.errors == [] and node_page.errors == []
    server.stop_worker()
