"""The management flows without a browser test elsewhere, in a real Chromium (Playwright):
organizations (create, rename, retention), ingest keys (shown once, revoked), node models,
alert channels (e-mail and webhook; edit; delete with confirmation), installations
(place, move, end) and a node's credential (rotate, disable, enable) and deletion.

Each as alice (owner); the same pages as bob (inspector of alice's organization): no
form, no button that changes anything, and a POST is refused with 403; and as charlie
(owner of another organization): 404 on every one of those URLs, and none of alice's
objects in his lists.

Needs Debian's /usr/bin/chromium (.ci/run installs it) and the built assets (`make assets`).
"""

import urllib.error
from datetime import UTC, datetime, timedelta

import pytest

from tests.dashboard import every_page
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
    server = SensorGridServer(tmp_path_factory.mktemp("flows")).start()
    # alice's channel, node model, ingest key, … (the accessibility test's data set)
    server.objects = every_page.build_in(server.environment)
    yield server
    server.stop()


@pytest.fixture
def phone(browser, server):
    contexts = []

    def sign_in(user: str):
        context = browser.new_context(viewport=PHONE)
        contexts.append(context)
        page = watched_page(context)
        log_in(page, server.base, user, "/organizations/")
        return page

    yield sign_in
    for context in contexts:
        context.close()


def heading(page) -> str:
    return page.get_by_role("heading", level=1).inner_text()


def post(page, server, path: str, data: dict | None = None) -> int:
    """A form POST with the page's session and a valid CSRF token: what refuses it is
    the view, not the CSRF check."""
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    answer = page.request.post(
        server.base + path,
        form=data or {},
        headers={"X-CSRFToken": token, "Referer": server.base + "/"},
        max_redirects=0,
    )
    return answer.status


def refused(send) -> int:
    """The HTTP status an ingest call was refused with."""
    with pytest.raises(urllib.error.HTTPError) as error:
        send()
    return error.value.code


def minutes_ago(minutes: int) -> str:
    """A value for an <input type="datetime-local"> (UTC, to the minute)."""
    return (datetime.now(UTC) - timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M")


def test_alice_creates_an_organization_renames_it_and_sets_its_retention(server, phone):
    page = phone("alice")
    page.get_by_role("link", name="New organization").click()
    fits_the_screen(page)
    page.get_by_label("Name").fill("Riverside Evening Classes")
    page.get_by_label("Keep raw samples (days)").fill("90")
    page.get_by_role("button", name="Create organization").click()
    assert heading(page) == "Riverside Evening Classes"
    main = page.locator("main")
    assert "raw samples kept 90 days" in main.inner_text()
    assert page.locator('[data-member="alice"]').inner_text().split("\t")[0].startswith("alice")

    page.get_by_role("link", name="Edit organization").click()
    fits_the_screen(page)
    assert page.get_by_label("Name").input_value() == "Riverside Evening Classes"
    page.get_by_label("Name").fill("Riverside Evening School")
    page.get_by_label("Keep raw samples (days)").fill("30")
    page.get_by_role("button", name="Save organization").click()
    assert heading(page) == "Riverside Evening School"
    assert "raw samples kept 30 days" in main.inner_text()

    page.get_by_role("link", name="Edit organization").click()
    page.get_by_label("Keep raw samples (days)").fill("0")  # out of range: said, not saved
    page.get_by_role("button", name="Save organization").click()
    assert page.locator(".form-problems").is_visible()
    page.get_by_label("Keep raw samples (days)").fill("")
    page.get_by_role("button", name="Save organization").click()
    assert "raw samples kept forever" in main.inner_text()

    page.goto(f"{server.base}/organizations/")
    row = page.locator("table.organizations tr", has_text="Riverside Evening School")
    assert "Owner" in row.inner_text() and "forever" in row.inner_text()
    assert page.problems == []


def test_alice_creates_an_ingest_key_shown_once_and_revokes_it(server, phone):
    page = phone("alice")
    page.goto(f"{server.base}/organizations/{server.objects['organization']}/")
    keys = page.locator("form", has=page.get_by_role("button", name="Create ingest key"))
    keys.get_by_label("Name").fill("Hall gateway")
    keys.get_by_role("button", name="Create ingest key").click()
    assert heading(page) == "Ingest key “Hall gateway”"
    secret = page.get_by_label("Ingest key of Riverside School").input_value()
    assert secret.startswith("sgk_")
    assert "only time the key is shown" in page.locator("main").inner_text()
    fits_the_screen(page)
    message = {"device": "demo-co2-001", "values": {"co2": 655}}
    assert server.ingest(secret, message)["accepted"] == 1  # for any node of the organization

    page.get_by_role("link", name="Back to Riverside School").click()
    assert secret not in page.content()  # shown once
    assert page.locator("table.ingest-keys tr", has_text="Hall gateway").is_visible()
    page.get_by_role("button", name="Revoke Hall gateway").click()
    assert "“Hall gateway” no longer works" in page.locator(".messages").inner_text()
    assert page.locator("table.ingest-keys tr", has_text="Hall gateway").count() == 0
    assert refused(lambda: server.ingest(secret, message)) == 401
    assert page.problems == []


def test_alice_creates_a_node_model_and_edits_it(server, phone):
    page = phone("alice")
    page.goto(f"{server.base}/node-models/")
    page.get_by_role("link", name="New node model").click()
    fits_the_screen(page)
    page.get_by_label("Organization").select_option(label="Riverside School")
    page.get_by_label("Manufacturer").fill("Riverside workshop")
    page.get_by_label("Name").fill("Door counter")
    page.get_by_label("Protocol").select_option("http")
    page.locator('input[name="quantities"][value="co2"]').check()
    page.get_by_label("Seconds between messages").fill("60")
    page.get_by_role("button", name="Create node model").click()
    row = page.locator("table.node-models tr", has_text="Riverside workshop Door counter")
    assert "Riverside School" in row.inner_text() and "60 s" in row.inner_text()
    fits_the_screen(page)

    page.get_by_role("link", name="Edit Riverside workshop Door counter").click()
    assert page.get_by_label("Name").input_value() == "Door counter"
    assert page.locator('input[name="quantities"][value="co2"]').is_checked()
    page.get_by_label("Seconds between messages").fill("120")
    page.get_by_role("button", name="Save node model").click()
    assert "120 s" in row.inner_text()
    # the shared catalogue is the operators': no edit link for it
    shared = page.locator("table.node-models tr", has_text="shared catalogue").first
    assert shared.get_by_role("link", name="Edit", exact=False).count() == 0
    assert page.problems == []


def test_alice_creates_an_email_and_a_webhook_channel_edits_one_and_deletes_one(server, phone):
    page = phone("alice")
    page.goto(f"{server.base}/alert-channels/")
    page.get_by_role("link", name="New channel").click()
    fits_the_screen(page)
    page.get_by_label("Organization").select_option(label="Riverside School")
    page.get_by_label("Name").fill("Janitor mail")
    page.get_by_label("Kind").select_option("email")
    page.get_by_label("E-mail: to").fill("janitor@example.org, head@example.org")
    page.get_by_role("button", name="Create channel").click()
    row = page.locator("table.channels tr", has_text="Janitor mail")
    assert "janitor@example.org" in row.inner_text() and "head@example.org" in row.inner_text()

    page.get_by_role("link", name="New channel").click()
    page.get_by_label("Organization").select_option(label="Riverside School")
    page.get_by_label("Name").fill("Ops webhook")
    page.get_by_label("Kind").select_option("webhook")
    page.get_by_label("Webhook: URL").fill("http://127.0.0.1:9/hooks/sensorgrid")
    page.get_by_role("button", name="Create channel").click()
    assert len(page.get_by_role("textbox", name="Signing secret").input_value()) >= 32  # shown once
    page.get_by_role("link", name="Back to the channels").click()
    assert page.locator("table.channels tr", has_text="Ops webhook").is_visible()

    page.get_by_role("link", name="Edit Janitor mail").click()
    fits_the_screen(page)
    assert page.get_by_label("Kind").count() == 0  # a kind stays what it is
    page.get_by_label("E-mail: to").fill("not an address")
    page.get_by_role("button", name="Save channel").click()
    assert page.locator(".form-problems").is_visible()
    page.get_by_label("E-mail: to").fill("caretaker@example.org")
    page.get_by_label("Enabled").uncheck()
    page.get_by_role("button", name="Save channel").click()
    assert "caretaker@example.org" in row.inner_text() and "janitor" not in row.inner_text()
    assert row.locator("td").nth(4).inner_text() == "off"

    page.get_by_role("link", name="Delete Ops webhook").click()
    assert heading(page) == "Delete alert channel “Ops webhook (webhook)”?"
    page.get_by_role("link", name="Cancel, keep it").click()
    assert page.locator("table.channels tr", has_text="Ops webhook").is_visible()
    page.get_by_role("link", name="Delete Ops webhook").click()
    page.get_by_role("button", name="Delete alert channel").click()
    assert page.locator("table.channels tr", has_text="Ops webhook").count() == 0
    assert row.is_visible()
    assert page.problems == []


def test_alice_ends_an_installation_places_the_node_again_and_moves_it(server, phone):
    node = server.node("alice", "demo-weather-002")
    page = phone("alice")
    page.goto(f"{server.base}/nodes/{node['id']}/settings/")
    current = page.locator("[data-current-installation]")
    assert current.inner_text().startswith("In Sports field at Sports hall since")

    page.get_by_text("End this installation").click()
    page.get_by_label("Ended at (UTC)").fill(minutes_ago(120))
    page.get_by_role("button", name="End installation").click()
    assert current.inner_text() == "Not installed anywhere now."
    fits_the_screen(page)

    page.get_by_label("Room").select_option(label="Main building / Schoolyard")
    page.get_by_label("From (UTC)").fill(minutes_ago(60))
    page.get_by_role("button", name="Install").click()
    assert current.inner_text().startswith("In Schoolyard at Main building since")

    page.get_by_text("Move to another room").click()
    page.get_by_label("Room", exact=True).first.select_option(label="Sports hall / Hall")
    page.get_by_role("button", name="Move").click()
    assert current.inner_text().startswith("In Hall at Sports hall since")
    rooms = page.locator("table.installations tbody tr td:first-child").all_inner_texts()
    assert [r.split(" (")[0] for r in rooms[:3]] == ["Hall", "Schoolyard", "Sports field"]
    fits_the_screen(page)

    page.get_by_role("link", name="Hall").first.click()
    assert page.locator(".tile", has_text="Sports field station").is_visible()
    assert page.problems == []


def test_alice_rotates_disables_enables_and_deletes_a_node(server, phone):
    node = server.node("alice", "demo-weather-001")
    old = server.credential("alice", node["id"])
    message = {"device": "demo-weather-001", "values": {"temperature": 4.5}}
    assert server.ingest(old, message)["accepted"] == 1
    page = phone("alice")
    settings_url = f"{server.base}/nodes/{node['id']}/settings/"
    page.goto(settings_url)

    page.get_by_role("button", name="Rotate credential").click()
    rotated = page.get_by_label("Credential of demo-weather-001").input_value()
    assert rotated.startswith("sgn_") and rotated != old
    assert refused(lambda: server.ingest(old, message)) == 401
    assert server.ingest(rotated, message)["accepted"] == 1

    page.goto(settings_url)
    assert rotated not in page.content()
    page.get_by_role("button", name="Disable node").click()
    assert page.locator("[data-enabled]").get_attribute("data-enabled") == "false"
    assert refused(lambda: server.ingest(rotated, message)) == 401
    page.get_by_role("button", name="Enable node").click()
    enabled = page.get_by_label("Credential of demo-weather-001").input_value()
    assert enabled not in (old, rotated)
    assert server.ingest(enabled, message)["accepted"] == 1

    page.goto(settings_url)
    page.get_by_role("link", name="Delete node…").click()
    assert heading(page).startswith("Delete node “")
    assert "all its measurements" in page.locator("main").inner_text()
    fits_the_screen(page)
    page.get_by_role("link", name="Cancel, keep it").click()
    assert page.url == settings_url
    page.get_by_role("link", name="Delete node…").click()
    page.get_by_role("button", name="Delete node").click()
    page.wait_for_url(f"{server.base}/")
    assert page.goto(settings_url).status == 404
    assert page.goto(f"{server.base}/nodes/{node['id']}/").status == 404
    page.goto(f"{server.base}/nodes/?q=demo-weather-001")
    assert "demo-weather-001" not in page.locator("main").inner_text()
    assert refused(lambda: server.ingest(enabled, message)) == 401
    assert page.problems == []


def management_urls(server) -> tuple[list[str], list[str]]:
    """alice's management pages (GET) and actions (POST), with her objects' ids."""
    o = server.objects
    pages = [
        f"/organizations/{o['organization']}/edit/",
        f"/node-models/{o['node_model']}/edit/",
        f"/alert-channels/{o['channel']}/edit/",
        f"/alert-channels/{o['channel']}/delete/",
        f"/nodes/{o['node']}/delete/",
    ]
    actions = [
        f"/organizations/{o['organization']}/ingest-keys/new/",
        f"/ingest-keys/{o['ingest_key']}/revoke/",
        f"/nodes/{o['node']}/rotate-credential/",
        f"/nodes/{o['node']}/disable/",
        f"/nodes/{o['node']}/enable/",
        f"/nodes/{o['node']}/install/",
        f"/nodes/{o['node']}/move/",
        f"/installations/{o['installation']}/end/",
        *pages,  # their forms' POSTs
    ]
    return pages, actions


def test_bob_the_inspector_sees_the_management_pages_read_only(server, phone):
    page = phone("bob")
    main = page.locator("main")
    o = server.objects
    read_only = [
        f"/organizations/{o['organization']}/",
        "/node-models/",
        "/alert-channels/",
        f"/nodes/{o['node']}/settings/",
    ]
    for path in read_only:
        assert page.goto(server.base + path).status == 200
        assert main.locator("form, button, input, select, textarea").count() == 0, path
        fits_the_screen(page)
    page.goto(f"{server.base}/organizations/{o['organization']}/")
    assert "needs the owner role" in main.inner_text()
    assert page.get_by_role("link", name="Edit organization").count() == 0
    page.goto(f"{server.base}/alert-channels/")
    assert "Caretaker's mail" in main.inner_text()  # he sees it, without Edit or Delete
    assert main.get_by_role("link", name="Edit Caretaker's mail").count() == 0
    assert main.get_by_role("link", name="New channel").count() == 0
    page.goto(f"{server.base}/node-models/")
    assert "CO2 box" in main.inner_text()
    assert main.get_by_role("link", name="New node model").count() == 0
    assert main.get_by_role("link", name="Edit Riverside workshop CO2 box").count() == 0

    pages, actions = management_urls(server)
    for path in [*pages, "/node-models/new/", "/alert-channels/new/"]:
        assert page.goto(server.base + path).status == 403, path
    for path in actions:
        assert post(page, server, path) == 403, path
    # nothing changed: the node still has its credential and its installation
    alice = phone("alice")
    alice.goto(f"{server.base}/nodes/{o['node']}/settings/")
    assert alice.locator("[data-enabled]").get_attribute("data-enabled") == "true"
    assert alice.locator("[data-current-installation]").inner_text().startswith("In ")
    alice.goto(f"{server.base}/alert-channels/")
    assert "Caretaker's mail" in alice.locator("main").inner_text()
    assert page.problems == []


def test_charlie_of_another_organization_gets_404_and_sees_none_of_alices_things(server, phone):
    page = phone("charlie")
    o = server.objects
    pages, actions = management_urls(server)
    for path in [
        f"/organizations/{o['organization']}/",
        f"/nodes/{o['node']}/settings/",
        f"/nodes/{o['node']}/connect/",
        *pages,
    ]:
        assert page.goto(server.base + path).status == 404, path
    for path in actions:
        assert post(page, server, path) == 404, path

    main = page.locator("main")
    lists = {
        "/organizations/": "Riverside School",
        "/node-models/": "CO2 box",
        "/alert-channels/": "Caretaker's mail",
        "/nodes/": "demo-co2-002",
        "/sites/": "Main building",
        "/dead-letters/": "demo-co2-002",
    }
    for path, alices in lists.items():
        page.goto(server.base + path)
        assert alices not in main.inner_text(), path
    page.goto(f"{server.base}/alert-channels/new/")
    organizations = page.get_by_label("Organization").locator("option").all_inner_texts()
    assert "Riverside School" not in organizations and "Harbour Offices" in organizations
    assert page.problems == []
