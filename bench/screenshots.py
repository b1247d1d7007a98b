"""Screenshots of the dashboard for the README, from a fresh `sensorgrid demo`:

- docs/img/map.png      the map: the sites' markers, the buses, the demo's street-tree layer
- docs/img/site.png     the school's main building: live classroom tiles with CO2 levels
- docs/img/devices.png  the device list
- docs/img/node.png     a classroom monitor's History tab (the last hour's chart)
- docs/img/fleet.png    the fleet view: charlie's buses moving, one bus's speed chart
- docs/img/radio.png    the LoRaWAN sensor's Radio tab: signal per gateway over time
- docs/img/board.png    alice's example dashboard ("Overview"): every panel drawn
- docs/img/outliers.png charlie's outlier page: the roof camera's scored pictures

Starts `sensorgrid demo` (embedded broker, simulators) on a new data directory and a
free port, waits until every room tile of alice is live (as tests/runtime/test_demo.py
does) and a few minutes of values are in, then photographs the pages with Playwright and
Debian's Chromium, and stops the demo with Ctrl-C:

    .venv/bin/python bench/screenshots.py [--settle 120]   # needs `make assets` first
"""

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.dashboard.liveserver import CHROMIUM, PASSWORD  # noqa: E402
from tests.servers import free_port  # noqa: E402

OUT = ROOT / "docs" / "img"
LIVE_WITHIN = 90  # seconds: the demo test asks for 60; a loaded machine gets some slack


def start_demo(directory: Path, port: int) -> subprocess.Popen:
    environment = {
        **os.environ,
        "SENSORGRID_VAR_DIR": str(directory),
        "SENSORGRID_DATABASE_URL": "",
        "SENSORGRID_REDIS_URL": "",
        "SENSORGRID_LOG_FORMAT": "text",
        # No tile server: the offline basemap, the same picture on every machine.
        "SENSORGRID_MAP_TILES": "off",
    }
    log = (directory / "demo.log").open("w")
    return subprocess.Popen(
        [sys.executable, "-m", "sensorgrid", "demo", "--port", str(port), "--rate", "1"],
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # Ctrl-C to the demo's own group at the end
    )


def wait_until_live(demo: subprocess.Popen, base: str, directory: Path) -> None:
    """Until the banner is out and /public/ shows a value (the simulators are sending)."""
    deadline = time.monotonic() + LIVE_WITHIN
    while time.monotonic() < deadline:
        if demo.poll() is not None:
            sys.exit("the demo stopped:\n" + (directory / "demo.log").read_text()[-3000:])
        banner = "SensorGrid demo on" in (directory / "demo.log").read_text()
        try:
            public = urllib.request.urlopen(base + "/public/", timeout=5).read().decode()
        except (urllib.error.URLError, ConnectionError):
            public = ""
        if banner and re.search(r'<article class="tile', public) and "No values yet" not in public:
            return
        time.sleep(1)
    sys.exit(f"not live after {LIVE_WITHIN} s:\n" + (directory / "demo.log").read_text()[-3000:])


def photograph(base: str) -> list[Path]:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    shots = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1200, "height": 800})
        page.goto(f"{base}/login/")
        page.get_by_label("Username").fill("alice")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()

        # The map: the sites' markers with their health, the switched-on tree layer.
        page.goto(f"{base}/")
        page.wait_for_selector('#live-state[data-state="connected"]')
        page.wait_for_function(
            "() => document.querySelectorAll('path.leaflet-interactive').length > 10"
        )
        time.sleep(1)
        shots.append(OUT / "map.png")
        page.screenshot(path=str(shots[-1]), full_page=True)

        # The main building: classrooms live.
        page.get_by_role("link", name="Main building").first.click()
        page.wait_for_selector('#live-state[data-state="connected"]')
        page.wait_for_function(
            "() => [...document.querySelectorAll('.tile')].every("
            "t => t.querySelector('[data-value]'))"
        )
        time.sleep(1)
        shots.append(OUT / "site.png")
        page.screenshot(path=str(shots[-1]), full_page=True)

        # The device list.
        page.goto(f"{base}/nodes/")
        page.wait_for_selector("table")
        shots.append(OUT / "devices.png")
        page.screenshot(path=str(shots[-1]), full_page=True)

        # A classroom monitor's history: the last hour.
        page.goto(f"{base}/nodes/")
        page.get_by_role("link", name="Classroom 2 monitor").first.click()
        page.get_by_role("navigation", name="Pages of this node").get_by_role(
            "link", name="History", exact=True
        ).click()
        page.get_by_role("button", name="1 h").click()
        page.wait_for_function("() => Number(document.getElementById('chart').dataset.points) > 5")
        time.sleep(1)
        shots.append(OUT / "node.png")
        page.screenshot(path=str(shots[-1]), full_page=True)

        # The LoRaWAN sensor's Radio tab: RSSI, SNR and spreading factor per gateway.
        page.goto(f"{base}/nodes/")
        page.get_by_role("link", name="Hall LoRaWAN sensor").first.click()
        page.get_by_role("navigation", name="Pages of this node").get_by_role(
            "link", name="Radio", exact=True
        ).click()
        page.wait_for_selector("#radio-rssi-chart[data-drawn='true']")
        time.sleep(1)
        shots.append(OUT / "radio.png")
        page.screenshot(path=str(shots[-1]), full_page=True)

        # Alice's example dashboard: every panel drawn from the demo's data.
        page.goto(f"{base}/boards/")
        page.get_by_role("link", name="Overview").first.click()
        page.wait_for_selector('#live-state[data-state="connected"]')
        page.wait_for_function(
            "() => { const all = document.querySelectorAll('section.board-panel');"
            " return all.length > 0 && [...all].every(p => p.dataset.loaded === 'true'); }"
        )
        time.sleep(1)
        shots.append(OUT / "board.png")
        page.screenshot(path=str(shots[-1]), full_page=True)

        # The fleet: charlie's buses on the move, the first one's speed chart.
        fleet = browser.new_page(viewport={"width": 1200, "height": 800})
        fleet.goto(f"{base}/login/?next=/fleet/")
        fleet.get_by_label("Username").fill("charlie")
        fleet.get_by_label("Password").fill(PASSWORD)
        fleet.get_by_role("button", name="Log in").click()
        fleet.wait_for_selector('#fleet-map[data-ready="true"]')
        fleet.wait_for_selector('#live-state[data-state="connected"]')
        fleet.locator("button[data-show]").first.click()
        fleet.wait_for_function(
            "() => Number(document.getElementById('speed-chart').dataset.points) > 5"
        )
        time.sleep(5)  # a few live moves
        shots.append(OUT / "fleet.png")
        fleet.screenshot(path=str(shots[-1]), full_page=True)

        # Charlie's outlier page: the roof camera's pictures, scored by the demo's model.
        fleet.goto(f"{base}/outliers/")
        fleet.wait_for_selector('#live-state[data-state="connected"]')
        fleet.wait_for_function(
            "() => document.querySelectorAll('[data-outlier-list] > li').length >= 2"
        )
        time.sleep(1)
        shots.append(OUT / "outliers.png")
        fleet.screenshot(path=str(shots[-1]))  # the first rows: the page holds 50
        browser.close()
    return shots


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--settle",
        type=float,
        default=120,
        help="seconds of live data before the photographs (default %(default)s)",
    )
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="sensorgrid-shots-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    demo = start_demo(directory, port)
    try:
        wait_until_live(demo, base, directory)
        time.sleep(args.settle)
        shots = photograph(base)
    finally:
        os.killpg(demo.pid, signal.SIGINT)
        demo.wait(timeout=60)
    print("wrote " + ", ".join(str(s.relative_to(ROOT)) for s in shots))


if __name__ == "__main__":
    main()
