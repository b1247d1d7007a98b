"""The node page's tabs in a real Chromium (Playwright) on a 390 px phone in the dark
scheme: alice clicks through every tab of a node with alerts, health changes, radio
receptions and a dead letter, and replays the letter; bob (inspector) sees the tabs
without the Replay button; charlie gets the 404. No tab scrolls sideways and none
reports a script error or a Content-Security-Policy violation.

Needs Debian's /usr/bin/chromium (.ci/run installs it) and the built assets (`make assets`).
"""

import pytest

from tests.dashboard.liveserver import SensorGridServer, signing_in
from tests.dashboard.marks import BROWSER

pytestmark = BROWSER
PHONE = {"width": 390, "height": 844}
# Which elements stick out on the right, for a failure message that says what to fix.
OVERFLOW = """() => {
  const width = window.innerWidth;
  const wide = [...document.querySelectorAll('body *')]
    .filter((e) => e.getBoundingClientRect().right > width + 0.5 && !e.closest('.table-scroll'))
    .slice(0, 5)
    .map((e) => `${e.tagName.toLowerCase()}.${e.className} ${e.getBoundingClientRect().right}px`);
  return { scroll: document.documentElement.scrollWidth, width, wide };
}"""

# What happened to the node, written straight into the server's database.
HISTORY = """
from datetime import timedelta
from django.utils import timezone
from sensorgrid.alerts.models import Alert, AlertRule
from sensorgrid.fidelity.models import NodeStatusChange
from sensorgrid.inventory.models import Node, Quantity
from sensorgrid.telemetry.models import DeadLetter, Reception
node = Node.objects.get(pk={node})
now = timezone.now()
for n in range(6):
    for gateway, rssi in (("gw-riverside", -95.0), ("gw-townhall", -112.0)):
        Reception.objects.create(
            node=node, ts=now - timedelta(minutes=30 - 5 * n), gateway_id=gateway,
            rssi=rssi + n, snr=5.0 - n, spreading_factor=9, frequency=868100000,
            frame_counter=n,
        )
for hours, old, new in ((3, "UNKNOWN", "ALIVE"), (2, "ALIVE", "MISSING"), (1, "MISSING", "ALIVE")):
    NodeStatusChange.objects.create(
        node=node, from_status=old, to_status=new, at=now - timedelta(hours=hours)
    )
DeadLetter.objects.create(
    node=node, organization=node.organization, device_id=node.device_id, received_at=now,
    last_received_at=now, source="http", topic="/api/v1/ingest/", decoder="json",
    payload=b"{{not json", reason="malformed", detail="Tabs test: not JSON",
)
rule = AlertRule.objects.create(
    organization=node.organization, name="Tabs rule", kind="threshold",
    params={{"above": 1000}}, quantity=Quantity.objects.get(key="co2"),
)
Alert.objects.create(
    organization=node.organization, rule=rule, node=node, quantity=rule.quantity,
    severity="warning", message="Tabs test: CO2 too high", started_at=now, opened_at=now,
    last_value=1500,
)
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = SensorGridServer(tmp_path_factory.mktemp("tabs")).start()
    token = server.token("alice")
    organization = server.call("/api/v1/organizations/", token=token)["results"][0]["id"]
    body = {"organization": organization, "device_id": "tabs-probe-1", "alias": "Tabs probe"}
    server.node_id = server.call("/api/v1/nodes/", body, token=token)["id"]
    answer = server.ingest(
        server.credential("alice", server.node_id),
        {"device": "tabs-probe-1", "values": {"co2": 640, "temperature": 21.5}},
    )
    assert answer["accepted"] == 2
    server.manage("shell", "-c", HISTORY.format(node=server.node_id))
    yield server
    server.stop()


@pytest.fixture
def sign_in(browser, server):
    with signing_in(browser, server, viewport=PHONE, color_scheme="dark") as sign_in:
        yield sign_in


def open_tab(page, label: str) -> None:
    page.get_by_role("navigation", name="Pages of this node").get_by_role(
        "link", name=label, exact=True
    ).click()
    page.wait_for_load_state()
    current = page.locator('.node-tabs a[aria-current="page"]')
    assert current.inner_text() == label
    found = page.evaluate(OVERFLOW)
    assert found["scroll"] <= PHONE["width"], f"{label} scrolls sideways: {found}"


def test_alice_clicks_through_every_tab_and_replays_the_dead_letter(server, sign_in):
    node = server.node_id
    page = sign_in("alice", f"/nodes/{node}/")
    assert page.get_by_role("heading", level=1).inner_text() == "Tabs probe"
    tabs = page.locator(".node-tabs a").all_inner_texts()
    assert tabs[:8] == [
        "Latest",
        "History",
        "Alerts",
        "Status history",
        "Radio",
        "Images",
        "Dead letters",
        "Settings",
    ]
    assert page.locator('.node-tabs a[aria-current="page"]').inner_text() == "Latest"
    assert "Tabs test: CO2 too high" in page.locator(".node-alerts").inner_text()

    assert page.locator('.tile [data-quantity="co2"] [data-value]').inner_text() == "640"

    open_tab(page, "History")
    page.wait_for_function("() => document.getElementById('chart').dataset.points === '1'")
    assert page.locator(".chart .plot .uplot").count() == 1

    open_tab(page, "Alerts")
    row = page.locator('tbody[data-alerts="open"] tr[data-alert]')
    assert "Tabs test: CO2 too high" in row.inner_text()
    assert row.get_by_role("button", name="Acknowledge").count() == 1

    open_tab(page, "Status history")
    changes = page.locator("table[data-list=status-changes] tbody tr").all_inner_texts()
    # the three written above, and the ingest may have brought the node to life again
    assert len(changes) in (3, 4) and "so far" in changes[0]
    assert sum("MISSING" in change for change in changes) == 2  # to MISSING and back

    open_tab(page, "Radio")
    gateways = page.locator("table[data-list=gateways] tbody tr").all_inner_texts()
    assert [g.split()[0] for g in gateways] == ["gw-riverside", "gw-townhall"]
    assert "-90" in gateways[0] and "SF9" in gateways[0] and "6" in gateways[0]
    page.wait_for_selector('#radio-chart[data-drawn="true"] .uplot')

    open_tab(page, "Dead letters")
    letter = page.locator("table[data-list=node-dead-letters] tbody tr")
    assert letter.count() == 1 and "malformed" in letter.inner_text()

    open_tab(page, "Settings")
    assert page.get_by_role("heading", name="Settings", exact=True).count() == 1

    open_tab(page, "Dead letters")
    page.get_by_role("button", name="Replay").click()
    page.wait_for_load_state()
    assert "Replayed" in page.locator(".list-messages").inner_text()

    open_tab_from_letter = page.get_by_role("link", name="node page")
    open_tab_from_letter.click()
    page.wait_for_load_state()
    assert page.url == f"{server.base}/nodes/{node}/"


def test_bob_the_inspector_sees_the_tabs_without_replay_and_charlie_the_404(server, sign_in):
    node = server.node_id
    bob = sign_in("bob", f"/nodes/{node}/dead-letters/")
    assert bob.locator("table[data-list=node-dead-letters] tbody tr").count() == 1
    assert bob.get_by_role("button", name="Replay").count() == 0
    open_tab(bob, "Alerts")
    assert bob.get_by_role("button", name="Acknowledge").count() == 0
    open_tab(bob, "Radio")
    assert bob.locator("table[data-list=gateways] tbody tr").count() == 2

    charlie = sign_in("charlie", "/")
    response = charlie.goto(f"{server.base}/nodes/{node}/radio/")
    assert response.status == 404
    assert "gw-riverside" not in charlie.content()
