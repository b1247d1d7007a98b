"""Connecting a new device in a real Chromium (Playwright), as a new user does it: alice
creates a node, copies the panel's curl or mosquitto_pub line, runs it in a shell, and
the panel's "Waiting for the first message…" turns green without a reload.

The curl line goes to the live server; the mosquitto_pub line to a throwaway Mosquitto
that the server's ingest service (`serve --ingest`) reads. That broker lets anybody in,
so -u/-P are not checked there; the last test runs the line against a Mosquitto with the
dynamic security plugin (SENSORGRID_BROKER_AUTH=dynsec, issue 20), where the node's
account exists only once the worker applied it and its password is the credential.

Needs Debian's /usr/bin/chromium (.ci/run installs it), curl, mosquitto and
mosquitto_pub, and the built assets (`make assets`).
"""

import os
import shutil
import subprocess
import sys

import pytest

from tests.dashboard.liveserver import (
    PASSWORD,
    PHONE,
    SensorGridServer,
    fits_the_screen,
    log_in,
    wait_until,
    watched_page,
)
from tests.dashboard.marks import BROWSER
from tests.servers import Mosquitto
from tests.support.dynsec_broker import DynsecMosquitto

pytestmark = BROWSER


@pytest.fixture(scope="module")
def mosquitto(tmp_path_factory):
    broker = Mosquitto(tmp_path_factory.mktemp("broker")).start()
    yield broker
    broker.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory, mosquitto):
    """The web server with its ingest service on the throwaway broker, which it shows."""
    server = SensorGridServer(tmp_path_factory.mktemp("connect"))
    server.environment.update(
        SENSORGRID_MQTT_URL=mosquitto.url,
        SENSORGRID_SERVE_INGEST="true",
        SENSORGRID_MQTT_CLIENT_ID="sensorgrid-connect-test",
    )
    server.start()
    wait_until(lambda: "subscribing to" in server.output(), timeout=60)
    yield server
    server.stop()


@pytest.fixture
def alice(browser, server):
    context = browser.new_context(viewport=PHONE)
    page = watched_page(context)
    log_in(page, server.base, "alice", "/sites/")
    yield page
    context.close()


def create_node(page, server, device_id: str) -> None:
    page.goto(f"{server.base}/nodes/new/")
    page.get_by_label("Name").fill(f"Monitor {device_id}")
    page.get_by_label("Device id").fill(device_id)
    page.get_by_role("button", name="Create node").click()
    assert page.get_by_label(f"Credential of {device_id}").input_value().startswith("sgn_")
    status = page.locator("#connect-status")
    assert status.get_attribute("data-state") == "waiting"
    assert status.inner_text().strip() == "Waiting for the first message…"


def shell(line: str) -> subprocess.CompletedProcess:
    """Run a line as a user pastes it into a terminal."""
    return subprocess.run(["sh", "-c", line], capture_output=True, text=True, timeout=30)


def turns_green(page) -> str:
    page.wait_for_selector('#connect-status[data-state="received"]', timeout=15_000)
    return page.locator("#connect-status").inner_text()


@pytest.mark.skipif(not shutil.which("curl"), reason="needs curl")
def test_the_panels_curl_line_lands_and_the_panel_turns_green(server, alice):
    page = alice
    create_node(page, server, "hall-co2-7")
    fits_the_screen(page)
    line = page.get_by_label("Send a test message with curl").input_value()
    assert line.startswith(f"curl -X POST '{server.base}/api/v1/ingest/'")
    sent = shell(line)
    assert sent.returncode == 0, sent.stderr
    assert '"accepted":2' in sent.stdout
    text = turns_green(page)
    assert "Received" in text and "co2 612 ppm" in text and "temperature 21.5 °C" in text

    page.get_by_role("link", name="Node page").click()
    node_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    page.goto(f"{server.base}/nodes/{node_id}/connect/")
    assert page.locator("#connect-status").get_attribute("data-state") == "received"
    assert (
        "Bearer <your credential>"
        in page.get_by_label("Send a test message with curl").input_value()
    )
    fits_the_screen(page)
    assert page.problems == []


@pytest.mark.skipif(not shutil.which("mosquitto_pub"), reason="needs mosquitto_pub")
def test_the_panels_mosquitto_pub_line_lands_through_the_broker(server, mosquitto, alice):
    page = alice
    create_node(page, server, "hall-co2-8")
    assert page.locator('[data-fact="mqtt-port"]').inner_text() == str(mosquitto.port)
    line = page.get_by_label("Publish a test message with mosquitto_pub").input_value()
    assert f"-p {mosquitto.port} " in line and "-t 'sensorgrid/hall-co2-8/up'" in line
    sent = shell(line)
    assert sent.returncode == 0, sent.stderr
    text = turns_green(page)
    assert "co2 612 ppm" in text
    assert page.problems == []


def test_a_malformed_post_shows_its_dead_letter(server, alice):
    page = alice
    create_node(page, server, "hall-co2-9")
    credential = page.get_by_label("Credential of hall-co2-9").input_value()
    refused = shell(
        f"curl -s -X POST '{server.base}/api/v1/ingest/' -H 'Authorization: Bearer {credential}'"
        ' -H \'Content-Type: application/json\' -d \'{"device": "hall-co2-9", "values":\''
    )
    assert '"malformed"' in refused.stdout
    page.wait_for_selector('#connect-status[data-state="refused"]', timeout=15_000)
    assert "malformed" in page.locator("#connect-status").inner_text()
    page.get_by_role("link", name="Open the dead letter").click()
    assert "malformed" in page.locator("main").inner_text()
    assert page.problems == []


@pytest.fixture(scope="module")
def authenticating(tmp_path_factory):
    """A server whose broker checks every client: the ingest service's account and the
    nodes' come from the inventory (a reconcile at start, then the worker's outbox)."""
    broker = DynsecMosquitto(tmp_path_factory.mktemp("dynsec")).start()
    server = SensorGridServer(tmp_path_factory.mktemp("connect-auth"))
    server.environment.update(
        SENSORGRID_BROKER_AUTH="dynsec",
        SENSORGRID_MQTT_URL=broker.url_for("sensorgrid-ingest", "ingest-secret"),
        SENSORGRID_MQTT_ADMIN_USERNAME=broker.admin,
        SENSORGRID_MQTT_ADMIN_PASSWORD=broker.admin_password,
        SENSORGRID_MQTT_CLIENT_ID="sensorgrid-connect-auth",
    )
    ingest = None
    try:
        server.start()
        server.manage("shell", "-c", "from sensorgrid.brokerauth import apply; apply.reconcile()")
        server.start_worker()
        log = (server.directory / "ingest.log").open("w")
        ingest = subprocess.Popen(
            [sys.executable, "-m", "sensorgrid", "ingest"],
            env=server.environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        ingest_log = server.directory / "ingest.log"
        wait_until(lambda: "subscribing to" in ingest_log.read_text(), timeout=60)
        yield server, broker
    finally:
        if ingest is not None:
            ingest.terminate()
            ingest.wait(timeout=15)
        server.stop()
        broker.stop()


@pytest.mark.skipif(not shutil.which("mosquitto_pub"), reason="needs mosquitto_pub")
@pytest.mark.skipif(
    not os.path.exists("/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so"),
    reason="needs Mosquitto's dynamic security plugin",
)
def test_the_mosquitto_pub_line_logs_in_as_the_node_on_an_authenticating_broker(
    browser, authenticating
):
    server, broker = authenticating
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    try:
        page.goto(f"{server.base}/login/?next=/sites/")
        page.get_by_label("Username").fill("alice")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{server.base}/sites/")
        create_node(page, server, "hall-co2-10")
        line = page.get_by_label("Publish a test message with mosquitto_pub").input_value()
        assert f"-p {broker.port} " in line and "-u 'node-" in line
        wrong = line.replace(" -P 'sgn_", " -P 'wrong")
        # The worker creates the node's account moments after the node: until then (and
        # with a wrong password always) the broker refuses the line.
        wait_until(lambda: shell(line).returncode == 0, timeout=30, interval=0.5)
        assert "co2 612 ppm" in turns_green(page)
        refused = shell(wrong)
        assert refused.returncode != 0 and "not authori" in refused.stderr.lower()
    finally:
        context.close()
