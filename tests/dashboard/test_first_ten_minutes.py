"""Issue 19's "done when", in a real Chromium: a new user, without /admin/, creates an
organization, a site, a room and a node (its credential shown once), runs the curl line
the Connect panel shows and sees the value arrive live on the node page, installs the
node in the room (the room's tile shows the value) and invites a colleague, who opens
the mailed link in a browser of her own, chooses a password and lands on the dashboard
as a member.

The server runs in a process of its own (ASGI, for the live updates), so Django's
locmem outbox is out of reach: it writes mails to files, as `sensorgrid demo` does,
and the test reads the link there.

Needs Debian's /usr/bin/chromium (.ci/run installs it) and the built assets (`make assets`).
"""

import json
import re
import shlex
import subprocess

import pytest

from tests.dashboard.liveserver import (
    PASSWORD,
    SensorGridServer,
    wait_until,
    watched_page,
)
from tests.dashboard.marks import BROWSER

pytestmark = BROWSER
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = SensorGridServer(tmp_path_factory.mktemp("first-ten-minutes"))
    server.environment["SENSORGRID_EMAIL_BACKEND"] = "file"  # as in `sensorgrid demo`
    server.start()
    # A user of the platform who belongs to no organization yet (the operator made the
    # account; everything after this is the dashboard).
    server.manage(
        "shell",
        "-c",
        "from sensorgrid.tenancy.models import User; "
        f"User.objects.create_user('erin', 'erin@example.org', {PASSWORD!r})",
    )
    yield server
    server.stop()


@pytest.fixture
def new_page(browser, server):
    contexts = []

    def open_page():
        context = browser.new_context(viewport=PHONE)
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.base)
        contexts.append(context)
        return watched_page(context)

    yield open_page
    for context in contexts:
        context.close()


def mailed_link(server, to: str) -> str:
    """The invitation link in the mail file the server wrote for ``to``."""

    def find() -> str | None:
        for path in sorted((server.directory / "mail").glob("*.log")):
            text = path.read_text()
            if f"To: {to}" in text:
                match = re.search(r"(http://\S+/invite/\S+/)", text)
                if match:
                    return match.group(1)
        return None

    return wait_until(find, timeout=10)


def heading(page) -> str:
    return page.get_by_role("heading", level=1).inner_text()


def test_a_new_owner_connects_a_node_installs_it_and_invites_a_colleague(server, new_page):
    erin = new_page()
    erin.goto(f"{server.base}/")
    erin.get_by_label("Username").fill("erin")
    erin.get_by_label("Password").fill(PASSWORD)
    erin.get_by_role("button", name="Log in").click()
    erin.wait_for_url(f"{server.base}/")

    # An organization: erin becomes its owner.
    erin.goto(f"{server.base}/organizations/")
    erin.get_by_role("link", name="New organization").click()
    erin.get_by_label("Name").fill("Lakeside School")
    erin.get_by_role("button", name="Create organization").click()
    assert heading(erin) == "Lakeside School"
    organization_url = erin.url

    # A site and a room in it.
    erin.goto(f"{server.base}/sites/")
    erin.get_by_role("link", name="New site").click()
    erin.get_by_label("Name").fill("Lakeside main building")
    erin.get_by_label("Address").fill("1 Lake Road, Springfield")
    erin.get_by_role("button", name="Create site").click()
    assert heading(erin) == "Lakeside main building"
    erin.get_by_role("link", name="New room").click()
    erin.get_by_label("Name").fill("Room 101")
    erin.get_by_role("button", name="Create room").click()
    assert "Room 101" in erin.locator("table.rooms").inner_text()

    # A node: its credential is shown once, with the Connect panel's curl line.
    erin.goto(f"{server.base}/sites/")
    erin.get_by_role("link", name="New node").click()
    erin.get_by_label("Name").fill("Room 101 monitor")
    erin.get_by_label("Device id").fill("lakeside-co2-101")
    erin.get_by_role("button", name="Create node").click()
    credential = erin.get_by_label("Credential of lakeside-co2-101").input_value()
    assert credential.startswith("sgn_")
    curl = erin.locator("#connect-curl").input_value()
    assert credential in curl and f"{server.base}/api/v1/ingest/" in curl
    assert erin.locator("#connect-status").get_attribute("data-state") == "waiting"
    node_url = erin.get_by_role("link", name="Node page").get_attribute("href")
    node_url = server.base + node_url if node_url.startswith("/") else node_url

    # The curl line, run as pasted, lands live on the node page (no reload).
    watcher = new_page()
    watcher.context.add_cookies(erin.context.cookies())
    watcher.goto(node_url)
    watcher.wait_for_selector('#live-state[data-state="connected"]', timeout=10_000)
    watcher.evaluate("window.notReloaded = true")
    sent = subprocess.run(shlex.split(curl), capture_output=True, text=True, timeout=20)
    assert sent.returncode == 0, sent.stderr
    assert '"accepted":' in sent.stdout.replace(" ", ""), sent.stdout
    co2 = json.loads(shlex.split(curl)[-1])["values"]["co2"]  # the example payload's
    watcher.wait_for_function(
        f"""() => {{
            const value = document.querySelector('.tile [data-quantity="co2"] [data-value]');
            return value && value.textContent === '{co2:g}';
        }}""",
        timeout=5000,
    )
    assert watcher.evaluate("window.notReloaded") is True
    erin.wait_for_selector('#connect-status[data-state="received"]', timeout=10_000)

    # Installed in the room: the room's page shows the node's tile with that value.
    erin.goto(f"{node_url}settings/")
    erin.get_by_label("Room").select_option(label="Lakeside main building / Room 101")
    erin.get_by_role("button", name="Install").click()
    current = erin.locator("[data-current-installation]").inner_text()
    assert current.startswith("In Room 101 at Lakeside main building since")
    erin.get_by_role("link", name="Room 101").first.click()
    tile = erin.locator(".tile", has_text="Room 101 monitor")
    assert tile.locator('[data-quantity="co2"] [data-value]').inner_text() == f"{co2:g}"

    # A colleague, invited by mail: a fresh browser, a password, the dashboard.
    erin.goto(organization_url)
    erin.get_by_label("E-mail address").fill("frank@example.org")
    erin.get_by_label("Role", exact=True).select_option("inspector")
    erin.get_by_role("button", name="Send invitation").click()
    assert "Invitation sent to frank@example.org" in erin.locator(".messages").inner_text()
    frank = new_page()
    frank.goto(mailed_link(server, "frank@example.org"))
    assert heading(frank) == "Join Lakeside School"
    frank.get_by_label("Username").fill("frank")
    frank.get_by_label("Password", exact=True).fill("Larch forest 1977")
    frank.get_by_label("Password confirmation").fill("Larch forest 1977")
    frank.get_by_role("button", name="Create account and join").click()
    frank.wait_for_url(f"{server.base}/sites/")
    assert "Lakeside main building" in frank.locator("main").inner_text()
    assert "Riverside" not in frank.locator("main").inner_text()  # alice's, not his
    frank.get_by_role("link", name="Room 101").first.click()
    tile = frank.locator(".tile", has_text="Room 101 monitor")
    assert tile.locator('[data-quantity="co2"] [data-value]').inner_text() == f"{co2:g}"

    for page in (erin, watcher, frank):
        assert page.problems == [], page.problems
