"""The node's History tab (its chart) in a real Chromium against `sensorgrid serve` on SQLite demo
data, in the organization's time zone (issue 19, item 6): with a single point the 24 h
axis spans the last 24 h (not 1000 days ahead), its labels are ISO/24-hour, the CO2
bands are drawn indoors, and an outdoor station gets neither bands nor traffic light.

Needs Debian's /usr/bin/chromium (.ci/run installs it) and the built assets (`make assets`).
"""

import re
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from tests.dashboard.liveserver import PASSWORD, SensorGridServer
from tests.dashboard.marks import BROWSER

pytestmark = BROWSER

ZONE = "Europe/Berlin"
DAY = 86400


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = SensorGridServer(tmp_path_factory.mktemp("charts"))
    server.environment["SENSORGRID_TIME_ZONE"] = ZONE
    server.start()
    yield server
    server.stop()


@pytest.fixture
def node_page(browser, server):
    contexts = []

    def open_node(user: str, node_id: int, tab: str = "history/"):
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        page.goto(f"{server.base}/login/?next=/nodes/{node_id}/{tab}")
        page.get_by_label("Username").fill(user)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state()
        if tab == "history/":  # the node's History tab has the chart
            # A function, not an expression: the CSP refuses Playwright's eval() of those.
            page.wait_for_function("() => document.getElementById('chart').dataset.xRange")
        return page

    yield open_node
    for context in contexts:
        context.close()


def send_one(server, user: str, device_id: str, values: dict) -> datetime:
    node = server.node(user, device_id)
    at = datetime.now(UTC).replace(microsecond=0)
    answer = server.ingest(
        server.credential(user, node["id"]),
        {"device": device_id, "ts": at.isoformat().replace("+00:00", "Z"), "values": values},
    )
    assert answer["accepted"] == len(values)
    return at


def band_pixel(page) -> list[int]:
    """The plot's background colour low and left of the middle, where no point lies."""
    return page.evaluate(
        """() => {
            const canvas = document.querySelector('#chart canvas');
            const ctx = canvas.getContext('2d');
            const y = Math.round(canvas.height * 0.75); // above the x axis's labels
            const x = Math.round(canvas.width * 0.3);
            const row = ctx.getImageData(x, y, 12, 1).data;
            // The most common colour of 12 pixels: a grid line may cross one.
            const counts = {};
            for (let i = 0; i < row.length; i += 4) {
                const key = [row[i], row[i + 1], row[i + 2]].join(',');
                counts[key] = (counts[key] || 0) + 1;
            }
            const best = Object.entries(counts).sort((a, b) => b[1] - a[1])[0][0];
            return best.split(',').map(Number);
        }"""
    )


def test_one_point_the_24h_axis_spans_the_last_day_in_24_hour_iso_time(server, node_page):
    sent = send_one(server, "charlie", "demo-co2-101", {"co2": 612})
    node = server.node("charlie", "demo-co2-101")
    page = node_page("charlie", node["id"])
    page.wait_for_function("() => document.getElementById('chart').dataset.points === '1'")
    x_min, x_max = map(int, page.get_attribute("#chart", "data-x-range").split())
    now = time.time()
    # Before the fix a single point stretched the axis 1000 days ahead (Feb 2027 – Aug 2029).
    assert now - 120 <= x_max <= now + 60
    assert x_max - x_min == DAY

    labels = page.get_attribute("#chart", "data-x-labels").split(" | ")
    assert len(labels) >= 3
    assert not any(re.search(r"am|pm", label, re.I) for label in labels)
    zone = ZoneInfo(ZONE)
    first_day = datetime.fromtimestamp(x_min, zone).date()
    last_day = datetime.fromtimestamp(x_max, zone).date()
    for label in labels:
        match = re.fullmatch(r"(\d{2}):(\d{2})(?:\n(\d{4}-\d{2}-\d{2}))?", label)
        assert match, label
        assert int(match[1]) < 24
        if match[3]:
            assert first_day <= datetime.fromisoformat(match[3]).date() <= last_day

    summary = page.inner_text("#chart-summary")
    bucket = datetime.fromtimestamp(sent.timestamp() // 900 * 900, ZoneInfo(ZONE))  # 15m averages
    local = bucket.strftime("%Y-%m-%d %H:%M:%S")
    assert f"latest 612 ppm at {local}" in summary  # the organization's wall clock
    assert ZONE in summary
    # 612 ppm: the lower part of the plot is the Good band, a light green background.
    assert page.get_attribute("#chart", "data-bands").split()[0] == "good"
    red, green, blue = band_pixel(page)
    assert green > red + 8 and green > blue + 8, (red, green, blue)
    assert page.errors == []


def test_the_1y_axis_spans_a_year_of_months_not_years_ahead(server, node_page):
    node = server.node("charlie", "demo-co2-101")
    page = node_page("charlie", node["id"])
    page.get_by_role("button", name="1 y").click()
    page.wait_for_function(
        "() => /^\\d{4}-\\d{2}/.test(document.getElementById('chart').dataset.xLabels)"
    )
    x_min, x_max = map(int, page.get_attribute("#chart", "data-x-range").split())
    assert x_max - x_min == 365 * DAY and abs(x_max - time.time()) < 120
    labels = page.get_attribute("#chart", "data-x-labels").split(" | ")
    years = {int(label[:4]) for label in labels}
    assert years <= {datetime.now(UTC).year - 1, datetime.now(UTC).year}, labels
    assert all(re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", label) for label in labels), labels


def test_an_outdoor_station_has_no_bands_and_no_traffic_light_live(server, node_page):
    # The demo's roof sensor stands on the "Roof terrace", an outdoor room.
    node = server.node("charlie", "demo-kpi-101")
    page = node_page("charlie", node["id"], tab="")  # the Latest tab: its tile
    page.wait_for_selector('#live-state[data-state="connected"]', timeout=10_000)
    send_one(server, "charlie", "demo-kpi-101", {"co2": 1500})
    page.wait_for_function(
        """() => {
            const row = document.querySelector('.tile [data-quantity="co2"] [data-value]');
            return row && row.textContent === '1500';
        }""",
        timeout=5000,
    )
    assert page.locator(".tile [data-level]").count() == 0
    assert page.locator(".tile .co2-poor").count() == 0
    tabs = page.get_by_role("navigation", name="Pages of this node")
    tabs.get_by_role("link", name="History", exact=True).click()
    page.wait_for_function("() => document.getElementById('chart').dataset.xRange")
    page.select_option("#quantity", "co2")
    page.wait_for_function("() => document.getElementById('chart').dataset.points === '1'")
    assert page.get_attribute("#chart", "data-bands") is None
    assert page.errors == []
