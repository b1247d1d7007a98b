"""The device list and the dead letters in a real Chromium (Playwright) on a phone:
alice searches and filters her devices, sorts them, opens one; a dead letter's page
shows the payload as text. No page scrolls sideways at 390 px (the table scrolls in its
own box) and none reports a Content-Security-Policy violation.

Needs Debian's /usr/bin/chromium (.ci/run installs it) and the built assets (`make assets`).
"""

import contextlib
import urllib.error

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
    server = SensorGridServer(tmp_path_factory.mktemp("lists")).start()
    token = server.token("alice")
    organization = server.call("/api/v1/organizations/", token=token)["results"][0]["id"]
    body = {"organization": organization, "device_id": "listed-probe-1", "alias": "Listed probe"}
    server.call("/api/v1/nodes/", body, token=token)
    # An unknown device sending with an organization key: a dead letter of alice's.
    key = server.call(
        "/api/v1/ingest-keys/", {"organization": organization, "name": "t"}, token=token
    )
    # refused (an error answer, as it should be): the refusal is the dead letter
    with contextlib.suppress(urllib.error.HTTPError):
        server.call(
            "/api/v1/ingest/", {"device": "stranger-9", "values": {"co2": 1}}, bearer=key["key"]
        )
    yield server
    server.stop()


@pytest.fixture
def phone(browser, server):
    context = browser.new_context(viewport=PHONE)
    page = watched_page(context)
    log_in(page, server.base, "alice", "/nodes/")
    yield page
    assert page.problems == []
    context.close()


def row_names(page) -> list[str]:
    return page.locator("table.list-table tbody th[scope=row]").all_inner_texts()


def test_alice_filters_her_devices_sorts_them_and_opens_one(server, phone):
    page = phone
    fits_the_screen(page)
    assert len(row_names(page)) > 1
    box = page.locator(".table-scroll")
    assert box.evaluate("e => e.scrollWidth > e.clientWidth")  # the table scrolls, the page not
    page.get_by_label("Search name or device id").fill("LISTED-PROBE")
    page.get_by_label("Status").select_option("unknown")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**/nodes/?*q=LISTED-PROBE*")
    assert "status=unknown" in page.url
    assert row_names(page) == ["Listed probe"]
    fits_the_screen(page)
    # a bookmark of the filter shows the same; the form keeps what was asked
    assert page.get_by_label("Search name or device id").input_value() == "LISTED-PROBE"
    header = page.locator("th", has_text="Last seen")
    assert header.get_attribute("aria-sort") == "none"
    header.get_by_role("link").click()
    page.wait_for_url("**sort=last_seen*")
    assert page.locator("th", has_text="Last seen").get_attribute("aria-sort") == "ascending"
    assert row_names(page) == ["Listed probe"]
    page.get_by_role("link", name="Listed probe").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Listed probe"


def test_a_bad_filter_says_so_and_the_dead_letter_shows_its_payload(server, phone):
    page = phone
    page.goto(f"{server.base}/nodes/?status=exploded")
    assert "These filters cannot be applied" in page.get_by_role("alert").inner_text()
    page.get_by_role("link", name="Show the whole list").click()
    assert len(row_names(page)) > 1
    page.get_by_role("link", name="Dead letters").first.click()
    fits_the_screen(page)
    page.get_by_label("Device id").fill("stranger")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**device=stranger*")
    page.locator("table.list-table tbody th a").first.click()
    assert "unknown-device" in page.get_by_role("heading", level=1).inner_text()
    assert '"stranger-9"' in page.locator("pre.payload").inner_text()
    assert page.get_by_role("button", name="Replay").is_visible()  # alice owns org A
    fits_the_screen(page)
