"""Managing the inventory in a real Chromium (Playwright) on a phone-sized screen:
alice (owner) creates a site, a room and a node (its credential shown once, copied,
and the device sends with it), installs the node in the room and sees its value there;
bob (inspector) gets the same pages read-only. No page scrolls sideways at 390 px and
none reports a Content-Security-Policy violation.

Needs Debian's /usr/bin/chromium (.ci/run installs it) and the built assets (`make assets`).
"""

from datetime import UTC, datetime

import pytest

from tests.dashboard.liveserver import (
    PHONE,
    SensorGridServer,
    fits_the_screen,
    log_in,
    watched_page,
)
from tests.dashboard.marks import BROWSER

pytestmark = BROWSER


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = SensorGridServer(tmp_path_factory.mktemp("manage")).start()
    yield server
    server.stop()


@pytest.fixture
def phone(browser, server):
    contexts = []

    def sign_in(user: str):
        context = browser.new_context(viewport=PHONE)
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.base)
        contexts.append(context)
        page = watched_page(context)
        log_in(page, server.base, user, "/sites/")
        return page

    yield sign_in
    for context in contexts:
        context.close()


def test_alice_creates_a_site_a_room_a_node_and_installs_it(server, phone):
    page = phone("alice")
    fits_the_screen(page)
    page.get_by_role("link", name="New site").click()
    fits_the_screen(page)
    page.get_by_label("Name").fill("Hillside Library")
    page.get_by_label("Address").fill("9 Hill Street, Springfield")
    page.get_by_label("Latitude").fill("52.53")
    page.get_by_label("Longitude").fill("13.41")
    page.get_by_role("button", name="Create site").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Hillside Library"

    page.get_by_role("link", name="New room").click()
    page.get_by_label("Name").fill("Reading room, 1st floor")
    page.get_by_label("Area (m²)").fill("80")
    page.get_by_role("button", name="Create room").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Hillside Library"
    rooms = page.locator("table.rooms")
    assert "Reading room, 1st floor" in rooms.inner_text() and "80 m²" in rooms.inner_text()
    fits_the_screen(page)

    page.goto(f"{server.base}/sites/")
    page.get_by_role("link", name="New node").click()
    page.get_by_label("Name").fill("Reading room monitor")
    page.get_by_label("Device id").fill("library-co2-1")
    page.get_by_role("button", name="Create node").click()
    credential = page.get_by_label("Credential of library-co2-1").input_value()
    assert credential.startswith("sgn_")
    assert "only time the credential is shown" in page.inner_text("main")
    fits_the_screen(page)
    page.get_by_role("button", name="Copy", exact=True).click()
    page.wait_for_function(
        "() => document.querySelector('[data-copy-state]').textContent === 'Copied.'"
    )
    assert page.evaluate("() => navigator.clipboard.readText()") == credential

    ts = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    answer = server.ingest(
        credential, {"device": "library-co2-1", "ts": ts, "values": {"co2": 812}}
    )
    assert answer["accepted"] == 1

    page.get_by_role("link", name="Settings and installation").click()
    assert credential not in page.content()  # shown once
    page.get_by_label("Room").select_option(label="Hillside Library / Reading room, 1st floor")
    page.get_by_role("button", name="Install").click()
    current = page.locator("[data-current-installation]").inner_text()
    assert current.startswith("In Reading room, 1st floor at Hillside Library since")
    fits_the_screen(page)

    page.get_by_role("link", name="Reading room, 1st floor").first.click()
    tile = page.locator(".tile", has_text="Reading room monitor")
    assert tile.locator('[data-quantity="co2"] [data-value]').inner_text() == "812"
    assert page.problems == []


def test_bob_the_inspector_sees_the_same_pages_read_only(server, phone):
    page = phone("bob")
    main = page.locator("main")
    assert "Classroom 1" in main.inner_text()
    assert page.get_by_role("link", name="New site").count() == 0
    assert page.get_by_role("link", name="New room").count() == 0
    assert main.locator("form, button").count() == 0
    page.get_by_role("link", name="Main building").click()
    assert main.get_by_role("link", name="Edit").count() == 0
    assert main.locator("form").count() == 0
    node = server.node("alice", "demo-co2-002")
    page.goto(f"{server.base}/nodes/{node['id']}/settings/")
    assert "changing them needs the owner role" in main.inner_text()
    assert main.locator("form, button, input, select").count() == 0
    fits_the_screen(page)
    refused = page.goto(f"{server.base}/sites/new/")
    assert refused.status == 403
    assert page.problems == []
