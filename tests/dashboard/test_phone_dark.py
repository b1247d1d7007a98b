"""Every main dashboard page on a 390×844 phone, in the light and the dark scheme
(issue 19, items 8 and 9): nothing scrolls sideways, the dark scheme really is dark,
and the status page follows node health live, without reloading itself.

Needs Debian's /usr/bin/chromium (.ci/run installs it) and the built assets (`make assets`).
"""

from datetime import UTC, datetime

import pytest

from tests.dashboard.liveserver import SensorGridServer, log_in, watched_page
from tests.dashboard.marks import BROWSER

pytestmark = BROWSER
PHONE = {"width": 390, "height": 844}
SCHEMES = ["light", "dark"]

# Which elements stick out on the right, for a failure message that says what to fix.
OVERFLOW = """() => {
  const width = window.innerWidth;
  const wide = [...document.querySelectorAll('body *')]
    .filter((e) => e.getBoundingClientRect().right > width + 0.5)
    .slice(0, 5)
    .map((e) => `${e.tagName.toLowerCase()}.${e.className} ${e.getBoundingClientRect().right}px`);
  return { scroll: document.documentElement.scrollWidth, width, wide };
}"""
# The body's background colour as [r, g, b] (getComputedStyle gives "rgb(r, g, b)").
BACKGROUND = """() => getComputedStyle(document.body).backgroundColor
  .match(/\\d+/g).slice(0, 3).map(Number)"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = SensorGridServer(tmp_path_factory.mktemp("phone")).start()
    yield server
    server.stop()


@pytest.fixture
def phone(browser, server):
    contexts = []

    def sign_in(user: str, scheme: str = "light", path: str = "/"):
        context = browser.new_context(viewport=PHONE, color_scheme=scheme)
        contexts.append(context)
        page = watched_page(context)
        log_in(page, server.base, user, path)
        return page

    yield sign_in
    for context in contexts:
        context.close()


def main_pages(server) -> list[str]:
    node = server.node("alice", "demo-co2-002")
    sites = server.call("/api/v1/sites/", token=server.token("alice"))["results"]
    return [
        "/",
        f"/nodes/{node['id']}/",
        "/status/",
        "/alerts/",
        "/alerts/rules/new/",
        "/sites/",
        f"/sites/{sites[0]['id']}/",
        "/public/",
        "/account/tokens/",
    ]


@pytest.mark.parametrize("scheme", SCHEMES)
def test_no_main_page_scrolls_sideways_on_a_phone(server, phone, scheme):
    page = phone("alice", scheme)
    for path in main_pages(server):
        page.goto(server.base + path)
        page.wait_for_load_state("networkidle")
        found = page.evaluate(OVERFLOW)
        assert found["scroll"] <= found["width"], f"{path} ({scheme}) scrolls sideways: {found}"
    assert page.problems == []


def test_the_dark_scheme_is_dark_and_the_light_one_light(server, phone):
    for scheme in SCHEMES:
        page = phone("alice", scheme)
        for path in ["/", "/status/", "/alerts/rules/new/"]:
            page.goto(server.base + path)
            red, green, blue = page.evaluate(BACKGROUND)
            luminance = 0.2126 * red + 0.7152 * green + 0.0722 * blue
            if scheme == "dark":
                assert luminance < 60, f"{path}: body background rgb({red}, {green}, {blue})"
            else:
                assert luminance > 200, f"{path}: body background rgb({red}, {green}, {blue})"
        # The chart keeps dark text on a light plot in both schemes (uPlot draws black axes).
        node = server.node("alice", "demo-co2-002")
        if scheme == SCHEMES[0]:  # a value, so History has a chart (not the Connect hint)
            credential = server.credential("alice", node["id"])
            now = datetime.now(UTC).isoformat(timespec="seconds")
            value = {"device": "demo-co2-002", "ts": now, "values": {"co2": 800}}
            assert server.ingest(credential, value)["accepted"] == 1
        page.goto(f"{server.base}/nodes/{node['id']}/history/")
        page.wait_for_selector(".chart .plot .uplot")
        plot = page.evaluate(
            "() => getComputedStyle(document.querySelector('.chart .plot')).backgroundColor"
        )
        if scheme == "dark":
            assert plot == "rgb(255, 255, 255)"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def test_the_status_page_follows_node_health_live_without_reloading(server, phone):
    server.manage(
        "shell",
        "-c",
        "from sensorgrid.inventory.models import Node; "
        "Node.objects.filter(device_id='demo-co2-002').update(status='UNKNOWN', last_seen=None)",
    )
    page = phone("alice", "dark", "/status/")
    assert page.get_by_role("heading", level=1).inner_text() == "Status"
    assert page.locator("meta[http-equiv=refresh]").count() == 0
    assert page.get_by_role("link", name="Refresh", exact=True).count() == 1
    assert "Harbour" not in page.content()  # charlie's organization
    page.wait_for_selector('#live-state[data-state="connected"]', timeout=10_000)
    count = lambda state: int(page.inner_text(f'#node-counts td[data-state="{state}"]'))  # noqa: E731
    unknown, alive = count("UNKNOWN"), count("ALIVE")
    assert unknown >= 1
    page.evaluate("window.notReloaded = true")
    page.wait_for_timeout(500)  # the snapshot (each node's state) arrives after "connected"

    node = server.node("alice", "demo-co2-002")
    credential = server.credential("alice", node["id"])
    answer = server.ingest(
        credential, {"device": "demo-co2-002", "ts": now_iso(), "values": {"co2": 700}}
    )
    assert answer["accepted"] == 1

    # The web process publishes recorded changes within its follower's 10 s.
    page.wait_for_function(
        f"""() => document.querySelector('#node-counts td[data-state="ALIVE"]').textContent
              === '{alive + 1}'""",
        timeout=20_000,
    )
    assert count("UNKNOWN") == unknown - 1
    assert "1 node health change" in page.inner_text("#status-changes")
    assert page.evaluate("() => window.notReloaded") is True
    assert page.problems == []
