"""The map and the fleet view in Chromium (issue 22) against `sensorgrid serve` on demo
data, tiles off (no network): the offline basemap, markers by health / CO2 / alerts with
their legend, clusters of 2,000 sites, the simulator's buses moving live on the fleet
view with their speeds, online/offline, speed chart and replay, the walls, and axe.

Needs Debian's /usr/bin/chromium and the built assets (`make assets`).
"""

import json
import threading
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sensorgrid.simulator import profiles
from sensorgrid.simulator.run import devices
from tests.dashboard.liveserver import PASSWORD, SensorGridServer, wait_until
from tests.dashboard.marks import BROWSER

AXE = Path(__file__).resolve().parents[2] / "node_modules/axe-core/axe.min.js"
BUSES = ["demo-bus-01", "demo-bus-02", "demo-bus-03"]
ONLINE_SECONDS = 3

pytestmark = BROWSER

# 2,000 sites of one node each around Munich, for a user of their own (mapper): one in
# ten dead, one open alert.
MANY_SITES = """
import random
from django.utils import timezone
from sensorgrid.alerts.models import Alert, AlertRule
from sensorgrid.inventory.models import Installation, Node, NodeStatus, Room, Site
from sensorgrid.tenancy.models import Membership, Organization, Role, User
org = Organization.objects.create(name="Many Sites", slug="many-sites")
user = User.objects.create_user("mapper", password="demo-password")
Membership.objects.create(user=user, organization=org, role=Role.OWNER)
rng = random.Random(1)
sites = Site.objects.bulk_create(
    Site(organization=org, name=f"Kiosk {i}", latitude=48.0 + rng.random() * 0.3,
         longitude=11.4 + rng.random() * 0.4) for i in range(2000))
rooms = Room.objects.bulk_create(Room(site=s, name="Box") for s in sites)
nodes = Node.objects.bulk_create(
    Node(organization=org, device_id=f"kiosk-{i}", alias=f"Kiosk node {i}",
         status=NodeStatus.DEAD if i % 10 == 0 else NodeStatus.ALIVE) for i in range(2000))
start = timezone.now()
Installation.objects.bulk_create(
    Installation(node=n, room=r, start=start) for n, r in zip(nodes, rooms))
rule = AlertRule.objects.create(organization=org, name="health", scope="organization",
                                kind="node_health", params={})
Alert.objects.create(organization=org, rule=rule, node=nodes[1], severity="warning",
                     message="checked", started_at=start, opened_at=start)
# An event layer: one event today, two the day before yesterday.
from datetime import timedelta
from sensorgrid.geo.models import Feature, Layer
events = Layer.objects.create(organization=org, key="events", name="Events",
                              geometry_type="Point", style={"color": "#b35900"})
for n, (begin, end) in enumerate([(start - timedelta(hours=1), start + timedelta(days=1)),
                                  (start - timedelta(days=3), start - timedelta(days=2)),
                                  (start - timedelta(days=3), start - timedelta(days=2))]):
    x, y = 11.55 + n * 0.02, 48.15
    Feature.objects.create(layer=events, external_id=str(n), properties={"n": n},
                           geometry={"type": "Point", "coordinates": [x, y]},
                           min_x=x, max_x=x, min_y=y, max_y=y, fingerprint=str(n),
                           valid_from=begin, valid_to=end)
"""


def post(server, path: str, body: dict, credential: str) -> dict:
    request = urllib.request.Request(
        server.base + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {credential}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


class Buses:
    """The simulator's vehicle profile driving demo buses: each second, what each bus
    would send now, posted through the vehicle decoder with the bus's credential."""

    def __init__(self, server) -> None:
        self.server = server
        self.profile = profiles.get("vehicle")
        self.devices = devices(self.profile, 0, 1, BUSES)
        self.credentials = {
            d.device_id: server.credential("charlie", server.node("charlie", d.device_id)["id"])
            for d in self.devices
        }
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None

    def send(self) -> None:
        at = datetime.now(UTC)
        for device in self.devices:
            uplink = self.profile.encode(device, self.profile.reading(device, at), at, 0)
            body = json.loads(uplink.payload)
            answer = post(
                self.server, "/api/v1/ingest/vehicle/", body, self.credentials[device.device_id]
            )
            assert answer["accepted"] == 5, answer

    def start(self) -> None:
        def loop():
            while not self.stopping.wait(1.0):
                self.send()

        self.thread = threading.Thread(target=loop, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        if self.thread:
            self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = SensorGridServer(tmp_path_factory.mktemp("map"))
    server.environment["SENSORGRID_FLEET_ONLINE_SECONDS"] = str(ONLINE_SECONDS)
    server.start()
    server.manage("shell", "-c", MANY_SITES)
    yield server
    server.stop()


@pytest.fixture
def open_page(browser, server):
    contexts = []

    def make(user, path, **options):
        context = browser.new_context(viewport={"width": 1280, "height": 900}, **options)
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


def axe(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        """async () => (await axe.run(document, { resultTypes: ['violations'] })).violations
            .map((v) => `${v.id} (${v.impact}): `
                + v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', '))"""
    )
    return found


def test_the_map_without_tiles_draws_the_offline_basemap_and_colours_sites(server, open_page):
    node = server.node("alice", "demo-co2-002")  # Classroom 2, in the Main building
    credential = server.credential("alice", node["id"])
    server.ingest(credential, {"device": "demo-co2-002", "values": {"co2": 1500}})
    page = open_page("alice", "/", bypass_csp=False)
    page.wait_for_selector('#map[data-ready="true"][data-basemap-loaded="true"]')
    assert page.get_attribute("#map", "data-basemap") == "offline"
    assert page.get_attribute("#map", "data-basemap-reason") == "tiles off"
    # Natural Earth's land and borders, beneath the markers; its credit in the corner.
    assert page.locator(".leaflet-basemap-pane path").count() >= 2
    assert "Natural Earth" in page.locator(".leaflet-control-attribution").inner_text()
    assert page.locator(".leaflet-tile").count() == 0  # nothing asked of a tile server
    main = page.locator('.leaflet-marker-icon[title^="Main building"]')
    # Poor CO2 inside: red, and as a letter and in the title, not by colour alone.
    wait_until(lambda: main.locator("[data-look]").get_attribute("data-look") == "co2-poor")
    assert main.locator("[data-look]").inner_text() == "P"
    assert main.get_attribute("title") == "Main building: CO2 Poor"
    legend = page.get_by_role("list", name="Map markers").inner_text()
    for words in ("a node is DEAD", "open alerts", "CO2 Poor", "a cluster"):
        assert words in legend
    assert page.errors == []


def test_two_thousand_sites_cluster_and_open_up_as_one_zooms_in(server, open_page):
    page = open_page("mapper", "/")
    page.wait_for_selector('#map[data-ready="true"]')
    clusters = int(page.get_attribute("#map", "data-clusters"))
    markers = int(page.get_attribute("#map", "data-markers"))
    assert clusters >= 1 and clusters + markers < 200  # not 2,000 markers
    cluster = page.locator(".leaflet-marker-icon .cluster-marker").first
    # A dead kiosk in every cluster of many: the worst look, with its glyph.
    assert "status-dead" in cluster.get_attribute("class")
    assert cluster.get_attribute("data-glyph") == "✗"
    title = page.locator(".leaflet-marker-icon:has(.cluster-marker)").first.get_attribute("title")
    assert " sites, " in title and "worst: DEAD" in title
    zoom = page.evaluate("() => document.querySelector('#map').dataset.clusters")
    page.locator(".leaflet-marker-icon:has(.cluster-marker)").first.click()
    wait_until(
        lambda: (
            page.get_attribute("#map", "data-clusters") != zoom
            or int(page.get_attribute("#map", "data-markers")) > markers
        )
    )
    # Below the map: the first 100 sites as tiles, the rest through Devices.
    assert "1901 more sites on the map, not listed" in page.locator("main").inner_text()
    assert page.errors == []


def test_the_time_slider_shows_the_event_layers_at_another_moment(server, open_page):
    page = open_page("mapper", "/")
    page.wait_for_selector('#map[data-ready="true"]')
    page.get_by_label("Events").check()
    # The layer's legend: its colour as a dot (points) before its name.
    swatch = page.locator(".leaflet-control-layers .layer-swatch.points")
    assert swatch.count() == 1
    features = page.locator(".leaflet-overlay-pane path.leaflet-interactive")
    wait_until(lambda: features.count() == 1)  # now: today's event
    page.evaluate(
        """() => {
            const slider = document.getElementById('layers-at');
            slider.value = '-60';
            slider.dispatchEvent(new Event('change'));
        }"""
    )
    wait_until(lambda: features.count() == 2)  # 60 hours ago: the two older ones
    assert page.locator("#layers-at-value").inner_text().endswith("UTC")
    assert page.errors == []


def test_the_fleet_view_follows_the_simulators_buses_live(server, open_page):
    buses = Buses(server)
    buses.send()
    page = open_page("charlie", "/fleet/", bypass_csp=True)  # for axe, below
    page.wait_for_selector('#fleet-map[data-ready="true"]')
    assert page.get_attribute("#fleet-map", "data-vehicles") == "3"
    rows = page.locator("tr[data-vehicle]")
    assert rows.count() == 3
    first = page.locator(".leaflet-marker-icon").first
    before = (first.get_attribute("data-lat"), first.get_attribute("data-lon"))
    # Full precision: six decimals, not 48.1.
    assert len(before[0].split(".")[1]) >= 4
    page.evaluate("() => { window.notReloaded = true; }")
    buses.start()
    try:
        page.wait_for_function(
            "() => Number(document.getElementById('fleet-map').dataset.moves || 0) >= 6",
            timeout=15_000,
        )
        after = (first.get_attribute("data-lat"), first.get_attribute("data-lon"))
        assert after != before  # the bus moved on the map
        assert page.evaluate("() => window.notReloaded") is True
        badge = rows.first.locator("[data-online]")
        assert badge.inner_text() == "● online"
        assert rows.first.locator("[data-speed]").inner_text() != "–"
        # Its arrow points its heading; its last hour is a line behind it.
        assert "rotate(" in first.locator(".vehicle-arrow").get_attribute("style")
        assert page.locator(".leaflet-overlay-pane path").count() >= 3
        # The speed chart of one bus, growing live.
        rows.first.get_by_role("button").click()
        page.wait_for_function(
            "() => Number(document.getElementById('speed-chart').dataset.points) >= 2"
        )
        assert "km/h" in page.locator("#speed-summary").inner_text()
        assert axe(page) == []
    finally:
        buses.stop()
    # No position for more than ONLINE_SECONDS: offline, without reload.
    page.wait_for_function(
        "() => document.querySelector('tr[data-vehicle] [data-online]').dataset.online === 'false'",
        timeout=(ONLINE_SECONDS + 5) * 1000,
    )
    assert rows.first.locator("[data-online]").inner_text() == "○ offline"
    # Replay the day: the slider walks the track, Play moves the replay marker.
    page.get_by_role("button", name="Load the day").click()
    page.wait_for_function("() => !document.getElementById('replay-at').disabled")
    page.get_by_role("button", name="Play").click()
    page.wait_for_function(
        "() => document.getElementById('replay-play').getAttribute('aria-pressed') === 'false'",
        timeout=40_000,
    )
    assert page.get_attribute("#fleet-map", "data-replay") == page.get_attribute(
        "#replay-at", "max"
    )
    assert "UTC" in page.locator("#replay-time").inner_text()
    assert page.errors == []


def test_the_fleet_view_shows_no_vehicle_of_another_organization(server, open_page):
    Buses(server).send()
    for user in ("alice", None):
        page = open_page(user, "/fleet/")
        page.wait_for_selector('#fleet-map[data-ready="true"]')
        assert page.get_attribute("#fleet-map", "data-vehicles") == "0"
        assert page.locator("tr[data-vehicle]").count() == 0
        assert "Bus" not in page.locator("main").inner_text()
        assert "No vehicles" in page.locator("main").inner_text()
        answer = page.request.get(f"{server.base}/api/geo/vehicles/").json()
        assert answer["features"] == []
        bus = server.node("charlie", "demo-bus-01")["id"]
        assert page.request.get(f"{server.base}/api/geo/vehicles/{bus}/track/").status == 404


def test_the_map_with_clusters_and_the_fleet_view_pass_axe(server, open_page):
    Buses(server).send()
    for user, path, ready in (("mapper", "/", "#map"), ("charlie", "/fleet/", "#fleet-map")):
        page = open_page(user, path, bypass_csp=True)
        page.wait_for_selector(f'{ready}[data-ready="true"]')
        assert axe(page) == [], path
