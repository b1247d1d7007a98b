"""Dashboards in Chromium against `sensorgrid serve` on demo data: an owner creates a
board, adds, configures, moves and resizes panels, saves; a live value reaches a panel
without reload; a public share opened in a fresh anonymous context shows only public
data; revoked, it is a 404; another organization's owner gets a 404.

Needs Debian's /usr/bin/chromium and the built assets (`make assets`).
"""

import json
import re
import urllib.request

import pytest

from tests.dashboard.liveserver import PASSWORD, SensorGridServer
from tests.dashboard.marks import BROWSER

pytestmark = BROWSER


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = SensorGridServer(tmp_path_factory.mktemp("boards")).start()
    server.credentials = {}
    for device_id, value in (("demo-co2-001", 555), ("demo-co2-002", 812)):
        node = server.node("alice", device_id)
        server.credentials[device_id] = server.credential("alice", node["id"])
        server.ingest(
            server.credentials[device_id], {"device": device_id, "values": {"co2": value}}
        )
    yield server
    server.stop()


def signed_in(browser, server, user):
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.goto(f"{server.base}/login/?next=/boards/")
    page.get_by_label("Username").fill(user)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{server.base}/boards/")
    return context, page


def rename(server, node: int, alias: str) -> None:
    request = urllib.request.Request(
        f"{server.base}/api/v1/nodes/{node}/",
        data=json.dumps({"alias": alias}).encode(),
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Token {server.token('alice')}",
        },
        method="PATCH",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


def add_stat(page, device: str, title: str):
    page.get_by_label("Panel type").select_option("stat")
    page.get_by_role("button", name="Add panel").click()
    dialog = page.locator("#panel-dialog")
    dialog.get_by_label("Title").fill(title)
    dialog.get_by_label("Devices").select_option(label=device)
    dialog.get_by_label("Quantities").select_option("co2")
    dialog.get_by_label("Thresholds").fill("800 warning, 1400 critical")
    dialog.get_by_role("button", name="Apply").click()
    return page.locator(f'section.board-panel[aria-label="{title}"]')


def test_an_owner_builds_a_live_board_and_shares_public_data_only(browser, server):
    context, page = signed_in(browser, server, "alice")
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.get_by_label("Name").fill("Classroom air")
    page.get_by_role("button", name="Create dashboard").click()
    page.wait_for_url(re.compile(r".*/boards/\d+/$"))
    board_url = page.url

    private = add_stat(page, "Classroom 2 monitor", "Room 2 CO2")
    value = private.locator("[data-stat]")
    value.filter(has_text="812").wait_for()
    assert value.get_attribute("data-level") == "warning"
    public = add_stat(page, "Classroom 1 monitor", "Room 1 CO2")
    public.locator("[data-stat]").filter(has_text="555").wait_for()

    # move and resize with the panel's buttons, then save and reload
    before = {k: int(private.get_attribute(f"data-{k}")) for k in "xywh"}
    private.get_by_role("button", name="Wider: Room 2 CO2").click()
    private.get_by_role("button", name="Taller: Room 2 CO2").click()
    private.get_by_role("button", name="Move right: Room 2 CO2").click()
    page.get_by_role("button", name="Save dashboard").click()
    page.locator("#save-state[data-saved=true]").wait_for()
    page.reload()
    private = page.locator('section.board-panel[aria-label="Room 2 CO2"]')
    after = {k: int(private.get_attribute(f"data-{k}")) for k in "xywh"}
    assert after == {**before, "x": before["x"] + 1, "w": before["w"] + 1, "h": before["h"] + 1}

    # a live value arrives without reload
    page.locator("#live-state[data-state=connected]").wait_for()
    private.locator("[data-stat]").filter(has_text="812").wait_for()
    server.ingest(
        server.credentials["demo-co2-002"], {"device": "demo-co2-002", "values": {"co2": 1501}}
    )
    private.locator("[data-stat][data-level=critical]").filter(has_text="1501").wait_for()

    # a public share: the public node's value, nothing of the private one
    page.get_by_label("Show").select_option("public")
    page.get_by_role("button", name="Create share link").click()
    link = page.locator("[data-share-link]").get_attribute("href")
    anonymous = browser.new_context()
    shared = anonymous.new_page()
    shared.goto(server.base + link)
    shared.locator('section[aria-label="Room 1 CO2"] [data-stat]').filter(has_text="555").wait_for()
    private_shared = shared.locator('section[aria-label="Room 2 CO2"]')
    private_shared.locator("[data-loaded=true], .stat-value").first.wait_for()
    assert "1501" not in shared.content() and "812" not in shared.content()
    assert shared.get_by_role("button", name="Add panel").count() == 0

    # revoked: the link is a 404
    page.reload()
    page.get_by_role("button", name=re.compile("Revoke the link")).click()
    page.get_by_text("revoked").wait_for()
    assert anonymous.new_page().goto(server.base + link).status == 404
    anonymous.close()

    # another organization's owner: 404
    other, other_page = signed_in(browser, server, "charlie")
    assert other_page.goto(board_url).status == 404
    other.close()
    assert errors == []
    context.close()


def test_every_panel_type_draws_what_the_member_apis_give(browser, server):
    found = server.node("alice", "demo-co2-002")
    node = found["id"]
    other = server.node("alice", "demo-co2-001")["id"]
    at = {"x": 0, "w": 6, "h": 3}
    panels = [
        {"id": "c", "type": "timeseries", "y": 0, **at, "bucket": "raw",
         "series": [{"node": node, "quantity": "co2"}, {"node": other, "quantity": "co2"}]},
        {"id": "t", "type": "table", "y": 3, **at, "nodes": [node, other], "quantities": ["co2"]},
        {"id": "m", "type": "map", "y": 6, **at, "nodes": [node, other]},
        {"id": "a", "type": "alerts", "y": 9, **at, "state": "all"},
        {"id": "i", "type": "image", "y": 12, **at, "node": node, "name": "camera"},
    ]  # fmt: skip
    body = {
        "organization": found["organization"],
        "name": "Every panel",
        "layout": {"range": "1h", "panels": panels},
    }
    board = server.call("/api/v1/boards/", body, token=server.token("alice"))
    # an alias is free text: the map's tooltip shows it as text, never as markup
    alias = "<img src=x data-pwn=1>"
    rename(server, node, alias)
    context, page = signed_in(browser, server, "bob")  # the inspector reads it
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{server.base}/boards/{board['id']}/")
    for panel in ("c", "t", "m", "a", "i"):
        page.locator(f'[data-panel="{panel}"][data-loaded="true"]').wait_for()
    assert int(page.locator('[data-panel="c"]').get_attribute("data-points")) >= 2
    assert page.locator('[data-panel="c"] canvas').count() == 1
    assert page.locator('[data-panel="t"] td').all_inner_texts()[:2] != ["–", "–"]
    assert page.locator('[data-panel="m"]').get_attribute("data-markers") == "2"
    for marker in page.locator('[data-panel="m"] path.leaflet-interactive').all():
        marker.dispatch_event("mouseover")
    page.locator('[data-panel="m"] .leaflet-tooltip').filter(has_text=alias).first.wait_for()
    assert page.locator("[data-pwn]").count() == 0
    rename(server, node, found["alias"])
    assert "No picture yet." in page.locator('[data-panel="i"]').inner_text()
    assert page.get_by_role("button", name="Add panel").count() == 0
    assert errors == []
    context.close()
