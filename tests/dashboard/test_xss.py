"""Stored XSS (issue 16, item 3) and the Content-Security-Policy of every page.

The browser tests plant script payloads in every name, label and imported property a
user can edit, open every page that shows them in Debian's Chromium, and assert that no
script ran, that the payload shows as text, and that the browser reported no CSP
violation: the text sinks hold on their own, the CSP is the second line.

The HTTP tests check that every HTML page (dashboard, status, admin, Swagger UI, DRF's
browsable API) carries the strict policy.
"""

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings

from sensorgrid.dashboard.csp import image_sources
from sensorgrid.dashboard.node_pages.tabs import TABS
from tests.dashboard import every_page
from tests.dashboard.liveserver import CHROMIUM, PASSWORD, SensorGridServer, wait_until

VENDOR = Path(settings.BASE_DIR) / "dashboard/static/dashboard/vendor/leaflet-src.esm.js"
ON_POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")

# Each part alone runs a script when it reaches an HTML sink (markup, attribute, SVG).
PAYLOAD = (
    '<img src=x onerror=window.__xss=1><script>window.__xss=2</script>"><svg onload=window.__xss=3>'
)

# --- the policy --------------------------------------------------------------------------


def directives(header: str) -> dict[str, list[str]]:
    parts = [part.split() for part in header.split(";") if part.strip()]
    return {part[0]: part[1:] for part in parts}


def assert_strict(response, path, drf=False):
    header = response.headers.get("Content-Security-Policy")
    assert header, f"{path}: no Content-Security-Policy"
    policy = directives(header)
    assert policy["script-src"] == ["'self'"], path
    assert policy["object-src"] == ["'none'"], path
    assert policy["base-uri"] == ["'self'"], path
    assert policy["frame-ancestors"] == ["'none'"], path
    if drf:  # DRF's own templates: exactly their style attributes, by hash
        assert policy["style-src"][:2] == ["'self'", "'unsafe-hashes'"], path
        assert all(source.startswith("'sha256-") for source in policy["style-src"][2:]), path
    else:
        assert policy["style-src"] == ["'self'"], path
    assert "'unsafe-inline'" not in header and "'unsafe-eval'" not in header, path
    host = response.wsgi_request.get_host()
    assert policy["connect-src"] == ["'self'", f"ws://{host}", f"wss://{host}"], path


@pytest.mark.django_db
def test_every_html_page_carries_the_strict_policy(world, client):
    root = world.root
    pages = [
        "/public/",
        "/login/",
        "/admin/login/",
        "/api-auth/login/",
        "/api/docs/",
        "/no-such-page/",
    ]
    for path in pages:
        assert_strict(client.get(path), path, drf=path.startswith("/api-auth/"))
    client.force_login(root)
    signed_in = [
        "/",
        f"/nodes/{world.node_a.pk}/",
        f"/sites/{world.site_a.pk}/",
        f"/rooms/{world.room_a.pk}/",
        "/alerts/",
        "/alerts/rules/",
        "/alerts/rules/new/",
        "/status/",
        "/admin/",
        "/admin/inventory/site/",
        f"/admin/inventory/site/{world.site_a.pk}/change/",
        "/api/docs/",
    ]
    for path in signed_in:
        response = client.get(path)
        assert response.status_code == 200, path
        assert_strict(response, path)
    browsable = client.get("/api/v1/sites/", HTTP_ACCEPT="text/html")
    assert browsable["Content-Type"].startswith("text/html")
    assert_strict(browsable, "/api/v1/sites/", drf=True)


@pytest.mark.django_db
def test_swagger_ui_has_no_inline_script(client):
    page = client.get("/api/docs/").content.decode()
    assert "<script>" not in page and "<style>" not in page
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()


def test_the_map_tile_origin_joins_img_src():
    assert image_sources("") == ["'self'", "data:"]
    assert image_sources("https://tiles.example.org/{z}/{x}/{y}.png") == [
        "'self'",
        "data:",
        "https://tiles.example.org",
    ]
    assert image_sources("https://{s}.tile.example.org:8443/{z}/{x}/{y}.png")[-1] == (
        "https://*.tile.example.org:8443"
    )
    assert image_sources("/tiles/{z}/{x}/{y}.png") == ["'self'", "data:"]  # same origin


@pytest.mark.django_db
def test_the_configured_tile_host_is_allowed_on_the_map(client, world):
    from sensorgrid.dashboard.csp import policy

    with override_settings(
        CONTENT_SECURITY_POLICY=policy("https://tiles.example.org/{z}/{x}/{y}.png")
    ):
        client.force_login(world.alice)
        header = client.get("/")["Content-Security-Policy"]
    assert directives(header)["img-src"] == ["'self'", "data:", "https://tiles.example.org"]


# --- the browser -------------------------------------------------------------------------

browser_only = [
    pytest.mark.slow,
    pytest.mark.skipif(ON_POSTGRES, reason="one server on SQLite demo data: the SQLite pass"),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin"),
    pytest.mark.skipif(not VENDOR.exists(), reason="assets not built: run `make assets`"),
]

# Alice's organization (Riverside School) with every editable text poisoned; its
# "Classroom 1 monitor" is publicly installed, so the public page shows them too.
PLANT = """
import json
from datetime import UTC, datetime
from sensorgrid.alerts.models import Alert, AlertRule, Channel
from sensorgrid.fidelity.models import NodeStatusChange
from sensorgrid.geo.models import Feature, Layer
from sensorgrid.inventory.models import Installation, Node, NodeModel, Quantity, Room, Site
from sensorgrid.telemetry.models import DeadLetter, Reception
from sensorgrid.tenancy import invitations
from sensorgrid.ingest.models import IngestKey
from sensorgrid.tenancy.models import Membership, Organization, Role, User

P = PAYLOAD
org = Organization.objects.get(slug="riverside-school")
org.name = "Org " + P
org.save()
site = Site.objects.get(name="Main building")
site.name, site.address = "Site " + P, "Address " + P
site.save()
room = Room.objects.get(name="Classroom 1")
room.name = "Room " + P
room.save()
node = Node.objects.get(device_id="demo-co2-001")
model = NodeModel.objects.create(organization=org, manufacturer="Maker " + P,
                                 name="Model " + P)
node.alias, node.model = "Alias " + P, model
node.save()
quantity = Quantity.objects.get(key="co2")
quantity.name = "CO2 " + P
quantity.save()
channel = Channel.objects.create(organization=org, name="Channel " + P, kind="webhook",
                                 config={"url": "https://hooks.example.org/x"})
rule = AlertRule.objects.create(organization=org, name="Rule " + P, scope="node", node=node,
                                quantity=quantity, kind="threshold",
                                params={"above": 1000, "clear": 900, "for_seconds": 0})
rule.channels.add(channel)
now = datetime.now(UTC)
alert = Alert.objects.create(organization=org, rule=rule, node=node, quantity=quantity,
                             severity="warning", message="Message " + P, started_at=now,
                             opened_at=now, last_value=1234)
layer = Layer.objects.create(organization=org, key="xss-layer", name="Layer " + P,
                             geometry_type="Point", style={"color": P})
x, y = site.longitude + 0.0004, site.latitude + 0.0003
Feature.objects.create(layer=layer, external_id="1", properties={"Key " + P: "Value " + P},
                       geometry={"type": "Point", "coordinates": [x, y]},
                       min_x=x, max_x=x, min_y=y, max_y=y, fingerprint="1")
# What devices and network servers send reaches the node's tabs too: a dead letter's
# detail and device id (Dead letters), a gateway id (Radio).
letter = DeadLetter.objects.create(
    received_at=now, last_received_at=now, source="http", topic="/api/v1/ingest/ " + P,
    decoder="json", content_type="application/json", payload=("Payload " + P).encode(),
    reason="invalid-value", detail="Detail " + P, device_id="Device " + P,
    organization=org, node=node)
Reception.objects.create(node=node, ts=now, gateway_id="gw " + P, rssi=-90, snr=7.5,
                         spreading_factor=7, frame_counter=1)
NodeStatusChange.objects.create(node=node, from_status="UNKNOWN", to_status="OK", at=now)
key = IngestKey(organization=org, name="Key " + P)
key.issue()
key.save()
alice = User.objects.get(username="alice")
invitation, token = invitations.issue(org, "carol@example.org", Role.INSPECTOR, alice)
# A node that never sent anything: its tabs show how to connect it, its alias in the hint.
silent = Node.objects.create(organization=org, device_id="xss-silent", alias="Silent " + P)
User.objects.create_superuser("xss-operator", "op@example.org", PASSWORD)
installation = Installation.objects.get(node=node, end__isnull=True)
# The radio view's gateway (its id and name come from the network server), a scored
# picture for the outlier page, a dashboard with a poisoned name and panel titles and
# its public share link.
from sensorgrid.boards.models import Board
from sensorgrid.telemetry.models import Gateway
from tests.dashboard.every_page import example_board, scored_picture
gateway = Gateway.objects.create(organization=org, gateway_id="gw " + P, name="Gateway " + P,
                                 latitude=site.latitude, longitude=site.longitude,
                                 located_at=now, first_seen=now, last_seen=now)
score = scored_picture(node, now)
boards = example_board(org, node)
board = Board.objects.get(pk=boards["board"])
board.name = "Board " + P
board.layout = {**board.layout, "panels": [{**panel, "title": "Panel " + P}
                                           for panel in board.layout["panels"]]}
board.save()
# Keyed as tests/dashboard/every_page.py fills routes (OBJECT_OF_PATH), plus the rest.
print(json.dumps({"node": node.pk, "site": site.pk, "room": room.pk, "rule": rule.pk,
                  "alert": alert.pk, "channel": channel.pk, "layer": layer.pk,
                  "node_model": model.pk, "organization": org.pk,
                  "installation": installation.pk, "dead_letter": letter.pk,
                  "member": Membership.objects.filter(organization=org).first().pk,
                  "ingest_key": key.pk, "invitation": invitation.pk,
                  "invitation_token": token, "silent": silent.pk,
                  "feature": Feature.objects.get(layer=layer).pk, "gateway": gateway.pk,
                  "outlier_score": score, **boards}))
"""

# Reports every CSP violation the page sees, before any page script runs.
WATCH_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation",
    (e) => window.__csp.push(`${e.violatedDirective} ${e.sourceFile}:${e.lineNumber} ${e.sample}`));
"""


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    server = SensorGridServer(tmp_path_factory.mktemp("xss")).start()
    script = f"PAYLOAD = {PAYLOAD!r}\nPASSWORD = {PASSWORD!r}\n" + PLANT
    done = subprocess.run(
        [sys.executable, "-m", "sensorgrid", "shell", "-c", script],
        env=server.environment,
        check=True,
        capture_output=True,
        text=True,
    )
    server.ids = json.loads(done.stdout.strip().splitlines()[-1])
    # A value, so that the poisoned quantity name shows in tiles, popups and the chart.
    credential = server.credential("alice", server.ids["node"])
    now = datetime.now(UTC).isoformat(timespec="seconds")
    server.ingest(credential, {"device": "demo-co2-001", "ts": now, "values": {"co2": 1234}})
    yield server
    server.stop()


class Visitor:
    """One browser context (signed in or not) that records everything suspicious."""

    def __init__(self, browser, server, user=None):
        self.server = server
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.context.add_init_script(WATCH_CSP)
        self.page = self.context.new_page()
        self.dialogs, self.errors, self.console = [], [], []
        self.page.on("dialog", self._dialog)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", lambda message: self.console.append(message.text))
        # Requests still running, so that a page that never settles says what it waits for.
        self.pending: set = set()
        self.page.on("request", lambda request: self.pending.add(request))
        self.page.on("requestfinished", lambda request: self.pending.discard(request))
        self.page.on("requestfailed", lambda request: self.pending.discard(request))
        if user:
            self.page.goto(f"{server.base}/login/")
            self.page.get_by_label("Username").fill(user)
            self.page.get_by_label("Password").fill(PASSWORD)
            self.page.get_by_role("button", name="Log in").click()
            self.page.wait_for_load_state()

    def _dialog(self, dialog):
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def open(self, path: str):
        self.errors.clear()  # what the previous page said while it unloaded is not news
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        response = self.page.goto(self.server.base + path)
        assert response.status == 200, path
        try:
            self.page.wait_for_load_state("networkidle")
        except PlaywrightTimeout:
            waiting = sorted(request.url for request in self.pending)
            raise AssertionError(f"{path} never settled; requests running: {waiting}") from None
        return self.page

    def assert_clean(self, where: str):
        page = self.page
        assert page.evaluate("window.__xss") is None, f"a planted script ran on {where}"
        assert self.dialogs == [], f"{where}: dialogs {self.dialogs}"
        violations = page.evaluate("window.__csp")
        assert violations == [], f"CSP violations on {where}: {violations}"
        violations = [m for m in self.console if "Content Security Policy" in m]
        assert violations == [], f"{where}: {violations}"
        assert self.errors == [], f"{where}: page errors {self.errors}"

    def assert_shows(self, text: str, where: str, selector: str = "body"):
        shown = self.page.locator(selector).first
        try:
            wait_until(lambda: text in shown.inner_text(), timeout=5)
        except AssertionError:
            raise AssertionError(f"{where}: {text!r} not in {shown.inner_text()!r}") from None
        self.assert_clean(where)

    def close(self):
        self.context.close()


@pytest.fixture
def visit(browser, planted):
    visitors = []

    def make(user=None):
        visitor = Visitor(browser, planted, user)
        visitors.append(visitor)
        return visitor

    yield make
    for visitor in visitors:
        visitor.close()


def with_browser(test):
    for mark in browser_only:
        test = mark(test)
    return test


@with_browser
def test_a_poisoned_site_name_runs_no_script_on_the_map(planted, visit):
    """The reported attack: a site name with an <img onerror> in the map tooltip."""
    alice = visit("alice")
    page = alice.open("/")
    page.wait_for_selector(".leaflet-tooltip.site-label")
    label = page.locator(".leaflet-tooltip", has_text="Site <img").first
    assert label.inner_text() == "Site " + PAYLOAD
    alice.assert_clean("the map tooltip")
    marker = page.locator(".leaflet-marker-icon[title^='Site <img']")
    marker.focus()
    page.keyboard.press("Enter")
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    for text in ("Site " + PAYLOAD, "Org " + PAYLOAD, "Alias " + PAYLOAD, "Room " + PAYLOAD):
        assert text in popup.inner_text()
    alice.assert_shows("Address " + PAYLOAD, "the map's site list")


@with_browser
def test_a_poisoned_layer_and_feature_properties_run_no_script(planted, visit):
    alice = visit("alice")
    page = alice.open("/")
    switcher = page.locator(".leaflet-control-layers")
    switcher.wait_for()
    assert "Layer " + PAYLOAD in switcher.inner_text()
    page.get_by_label("Layer " + PAYLOAD).check()
    features = page.locator(".leaflet-overlay-pane path.leaflet-interactive")
    wait_until(lambda: features.count() == 1, timeout=5)
    features.first.click(force=True)
    popup = page.locator(".leaflet-popup-content").last
    popup.wait_for()
    for text in ("Layer " + PAYLOAD, "Key " + PAYLOAD, "Value " + PAYLOAD):
        assert text in popup.inner_text()
    alice.assert_clean("the layer switcher and a feature popup")


@with_browser
def test_the_dashboard_pages_show_poisoned_names_as_text(planted, visit):
    ids = planted.ids
    node, silent = f"/nodes/{ids['node']}", f"/nodes/{ids['silent']}"
    alice = visit("alice")
    pages = {
        f"{node}/": ["Alias " + PAYLOAD, "Model " + PAYLOAD, "CO2 " + PAYLOAD, "Room " + PAYLOAD],
        f"{node}/history/": ["Alias " + PAYLOAD, "CO2 " + PAYLOAD],
        f"{node}/alerts/": ["Message " + PAYLOAD, "Rule " + PAYLOAD],
        f"{node}/status/": ["Alias " + PAYLOAD, "UNKNOWN"],
        f"{node}/radio/": ["gw " + PAYLOAD],
        f"{node}/dead-letters/": ["Detail " + PAYLOAD],
        f"{node}/settings/": ["Alias " + PAYLOAD, "Model " + PAYLOAD],
        f"{node}/connect/": ["Alias " + PAYLOAD, "demo-co2-001"],
        f"{silent}/": ["Silent " + PAYLOAD, "This device has not sent anything yet."],
        f"{silent}/history/": ["Connect Silent " + PAYLOAD],
        f"/dead-letters/{ids['dead_letter']}/": ["Detail " + PAYLOAD, "Payload " + PAYLOAD],
        "/dead-letters/": ["Device " + PAYLOAD],
        "/nodes/": ["Alias " + PAYLOAD, "Silent " + PAYLOAD],
        f"/sites/{ids['site']}/": ["Site " + PAYLOAD, "Room " + PAYLOAD, "Org " + PAYLOAD],
        f"/rooms/{ids['room']}/": ["Room " + PAYLOAD, "Alias " + PAYLOAD],
        "/public/": ["Site " + PAYLOAD, "Alias " + PAYLOAD],
        "/alerts/": ["Message " + PAYLOAD, "Rule " + PAYLOAD],
        "/alerts/rules/": ["Rule " + PAYLOAD, "Channel " + PAYLOAD],
        f"/alerts/rules/{ids['rule']}/": ["Rule " + PAYLOAD, "Message " + PAYLOAD],
        "/alerts/rules/new/": ["Channel " + PAYLOAD, "Site " + PAYLOAD],
    }
    for path, texts in pages.items():
        alice.open(path)
        for text in texts:
            alice.assert_shows(text, path)
    page = alice.open(f"{node}/history/")  # the chart moved to the History tab
    page.wait_for_selector(".u-legend")  # the chart's legend names the poisoned quantity
    alice.assert_shows("CO2 " + PAYLOAD, "the chart legend", ".u-legend")
    page = alice.open(f"{node}/radio/")
    page.wait_for_selector("#radio-chart .uplot")  # drawn from the page's data
    alice.assert_clean("the radio chart")
    # And every other page of the dashboard (the URL resolver's list, as the accessibility
    # test visits them) with the planted objects in its parameters: no script, no CSP report.
    found = every_page.visit(alice.context.request, planted.base, ids)
    assert found.unfilled == [], f"routes no planted object fills: {found.unfilled}"
    tabs = {name for _, _, name in TABS}
    assert tabs <= set(found.pages), f"node tabs missing from the sweep: {tabs - set(found.pages)}"
    for name, path in found.pages.items():
        if found.status[name] == 200 and path not in pages:
            alice.open(path)
            alice.assert_clean(f"{name} ({path})")


@with_browser
def test_an_anonymous_visitor_runs_no_planted_script(planted, visit):
    stranger = visit()
    stranger.open("/public/")
    stranger.assert_shows("Room " + PAYLOAD, "/public/ (anonymous)")


@with_browser
def test_the_admin_status_page_and_api_views_run_no_planted_script(planted, visit):
    ids = planted.ids
    operator = visit("xss-operator")
    pages = {
        "/status/": None,
        "/admin/tenancy/organization/": "Org " + PAYLOAD,
        f"/admin/tenancy/organization/{ids['organization']}/change/": None,
        "/admin/inventory/site/": "Site " + PAYLOAD,
        f"/admin/inventory/site/{ids['site']}/change/": None,
        "/admin/inventory/room/": "Room " + PAYLOAD,
        f"/admin/inventory/room/{ids['room']}/change/": None,
        "/admin/inventory/node/": "Alias " + PAYLOAD,
        f"/admin/inventory/node/{ids['node']}/change/": None,
        "/admin/inventory/nodemodel/": "Model " + PAYLOAD,
        f"/admin/inventory/nodemodel/{ids['node_model']}/change/": None,
        "/admin/inventory/quantity/": "CO2 " + PAYLOAD,
        "/admin/inventory/installation/": "Room " + PAYLOAD,
        f"/admin/inventory/installation/{ids['installation']}/change/": None,
        "/admin/alerts/alertrule/": "Rule " + PAYLOAD,
        f"/admin/alerts/alertrule/{ids['rule']}/change/": None,
        "/admin/alerts/alert/": "Message " + PAYLOAD,
        f"/admin/alerts/alert/{ids['alert']}/change/": None,
        "/admin/alerts/channel/": "Channel " + PAYLOAD,
        f"/admin/alerts/channel/{ids['channel']}/change/": None,
        "/admin/geo/layer/": "Layer " + PAYLOAD,
        f"/admin/geo/layer/{ids['layer']}/change/": None,
        "/admin/geo/feature/": "Layer " + PAYLOAD,
        f"/admin/geo/feature/{ids['feature']}/change/": None,
        # JSON escapes the quote: the payload up to it.
        "/api/v1/sites/": "Site " + PAYLOAD.split('"')[0],
        f"/api/v1/nodes/{ids['node']}/": "Alias " + PAYLOAD.split('"')[0],
        "/api/docs/": None,
    }
    for path, text in pages.items():
        page = operator.open(path)
        if text:
            operator.assert_shows(text, path)
        else:
            if path.startswith("/admin/"):
                assert page.locator("#content-main form").count() == 1, path
            operator.assert_clean(path)
    page = operator.open("/api/docs/")
    page.wait_for_selector(".swagger-ui .info .title", timeout=10_000)
    assert "SensorGrid API" in page.locator(".swagger-ui .info .title").inner_text()
    operator.assert_clean("Swagger UI")
