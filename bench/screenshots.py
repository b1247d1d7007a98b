"""Screenshots of the dashboard for the README: docs/img/map.png and docs/img/node.png.

Starts `sensorgrid serve` on demo data in a temporary directory, sends a day of
demo-like CO2, temperature and humidity readings through the HTTP ingest API, and
photographs the pages with Playwright and Debian's Chromium:

    .venv/bin/python bench/screenshots.py            # needs `make assets` first
"""

import math
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.dashboard.liveserver import PASSWORD, SensorGridServer  # noqa: E402

OUT = ROOT / "docs" / "img"
# device id → (CO2 base level ppm, amplitude): a fair classroom, a good one, a stuffy hall.
DEVICES = {"demo-co2-001": (650, 250), "demo-co2-002": (900, 350), "70b3d57ed0000001": (1250, 400)}


def day_of_readings(device_id: str, base: float, amplitude: float) -> list[dict]:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    messages = []
    for i in range(24 * 6, -1, -1):  # every 10 minutes
        ts = now - timedelta(minutes=10 * i)
        hour = ts.hour + ts.minute / 60
        occupied = 8 <= hour <= 16
        wave = math.sin((hour - 8) / 8 * math.pi) if occupied else 0.0
        co2 = base - amplitude / 2 + amplitude * max(wave, 0) + 15 * math.sin(i * 1.7)
        messages.append(
            {
                "device": device_id,
                "ts": ts.isoformat().replace("+00:00", "Z"),
                "values": {
                    "co2": round(max(co2, 410)),
                    "temperature": round(20.5 + 1.5 * max(wave, 0) + 0.2 * math.sin(i), 1),
                    "humidity": round(40 + 6 * max(wave, 0), 1),
                },
            }
        )
    return messages


def main() -> None:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    server = SensorGridServer(Path(tempfile.mkdtemp(prefix="sensorgrid-shots-"))).start()
    try:
        ids = {}
        for device_id, (base, amplitude) in DEVICES.items():
            node = server.node("alice", device_id)
            ids[device_id] = node["id"]
            credential = server.credential("alice", node["id"])
            server.ingest(credential, day_of_readings(device_id, base, amplitude))
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", args=["--no-sandbox"]
            )
            page = browser.new_page(viewport={"width": 1200, "height": 800})
            page.goto(f"{server.base}/login/")
            page.get_by_label("Username").fill("alice")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_selector('#live-state[data-state="connected"]')
            page.locator(".leaflet-marker-icon[title^='Main building']").click()
            page.locator(".leaflet-popup-content").wait_for()
            time.sleep(0.5)
            page.screenshot(path=str(OUT / "map.png"), full_page=True)
            page.goto(f"{server.base}/nodes/{ids['demo-co2-002']}/")
            page.wait_for_selector('#live-state[data-state="connected"]')
            page.wait_for_function(
                "() => Number(document.getElementById('chart').dataset.points) > 0"
            )
            time.sleep(0.5)
            page.screenshot(path=str(OUT / "node.png"), full_page=True)
            browser.close()
    finally:
        server.stop()
    print(f"wrote {OUT / 'map.png'} and {OUT / 'node.png'}")


if __name__ == "__main__":
    main()
