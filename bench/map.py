"""The map with 10,000 nodes (issue 22, docs/performance.md): first render and panning.

A `sensorgrid serve` on SQLite demo data (tiles off: no network) gets an organization of
10,000 sites of one node each spread over Munich, each node with a CO2 and temperature
value (one in ten dead, a few with open alerts). In Debian's Chromium (Playwright) its
owner opens the map:

- first render: from the navigation's start to the first markers drawn (map.js writes
  performance.now() then, `data-ready-ms`), median of `--runs` loads, and the HTML's size;
- panning: frame times (requestAnimationFrame deltas) while the mouse drags the map
  around ten times and zooms in and out twice (each move ends in a re-clustering).

Prints one JSON line:  .venv/bin/python bench/map.py [--nodes 10000] [--runs 5]
"""

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.dashboard.liveserver import CHROMIUM, PASSWORD, SensorGridServer  # noqa: E402

MANY = """
import random
from django.utils import timezone
from sensorgrid.alerts.models import Alert, AlertRule
from sensorgrid.inventory.models import Installation, Node, NodeStatus, Quantity, Room, Site
from sensorgrid.telemetry.models import Latest
from sensorgrid.tenancy.models import Membership, Organization, Role, User
N = {nodes}
org = Organization.objects.create(name="City sensors", slug="city-sensors")
user = User.objects.create_user("mapper", password="{password}")
Membership.objects.create(user=user, organization=org, role=Role.OWNER)
rng = random.Random(1)
sites = Site.objects.bulk_create(
    Site(organization=org, name=f"Sensor site {{i}}", latitude=48.05 + rng.random() * 0.2,
         longitude=11.4 + rng.random() * 0.35) for i in range(N))
rooms = Room.objects.bulk_create(Room(site=s, name="Box") for s in sites)
nodes = Node.objects.bulk_create(
    Node(organization=org, device_id=f"city-{{i}}", alias=f"City sensor {{i}}",
         status=NodeStatus.DEAD if i % 10 == 0 else NodeStatus.ALIVE) for i in range(N))
now = timezone.now()
Installation.objects.bulk_create(
    Installation(node=n, room=r, start=now) for n, r in zip(nodes, rooms))
co2 = Quantity.objects.get(key="co2")
temperature = Quantity.objects.get(key="temperature")
Latest.objects.bulk_create(
    [Latest(node_id=n.pk, quantity_id=co2.pk, ts=now, value=rng.uniform(400, 1800)) for n in nodes]
    + [Latest(node_id=n.pk, quantity_id=temperature.pk, ts=now, value=rng.uniform(18, 26))
       for n in nodes], batch_size=2000)
rule = AlertRule.objects.create(organization=org, name="health", scope="organization",
                                kind="node_health", params={{}})
Alert.objects.bulk_create(
    Alert(organization=org, rule=rule, node=n, severity="warning", message="bench",
          started_at=now, opened_at=now) for n in nodes[1::500])
"""

FRAMES = """() => {
  window.__frames = [];
  let last = performance.now();
  const tick = (t) => {
    window.__frames.push(t - last);
    last = t;
    if (window.__recording) requestAnimationFrame(tick);
  };
  window.__recording = true;
  requestAnimationFrame(tick);
}"""


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as directory:
        server = SensorGridServer(Path(directory))
        server.start()
        try:
            started = time.monotonic()
            server.manage("shell", "-c", MANY.format(nodes=args.nodes, password=PASSWORD))
            seeded = time.monotonic() - started
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=str(CHROMIUM), args=["--no-sandbox"]
                )
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                page = context.new_page()
                page.goto(f"{server.base}/login/?next=/sites/")
                page.get_by_label("Username").fill("mapper")
                page.get_by_label("Password").fill(PASSWORD)
                page.get_by_role("button", name="Log in").click()
                page.wait_for_url(f"{server.base}/sites/")
                renders, served, html = [], [], 0
                for _ in range(args.runs):
                    response = page.goto(f"{server.base}/")
                    html = len(response.body())
                    page.wait_for_selector('#map[data-ready="true"]', timeout=60_000)
                    renders.append(int(page.get_attribute("#map", "data-ready-ms")))
                    served.append(
                        round(
                            page.evaluate(
                                "() => performance.getEntriesByType('navigation')[0].responseEnd"
                            )
                        )
                    )
                markers = int(page.get_attribute("#map", "data-markers"))
                clusters = int(page.get_attribute("#map", "data-clusters"))
                box = page.locator("#map").bounding_box()
                cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
                page.evaluate(FRAMES)
                for i in range(10):
                    dx, dy = (200, 0) if i % 2 == 0 else (-150, 120)
                    page.mouse.move(cx, cy)
                    page.mouse.down()
                    for step in range(1, 21):
                        page.mouse.move(cx + dx * step / 20, cy + dy * step / 20)
                        page.wait_for_timeout(16)
                    page.mouse.up()
                    page.wait_for_timeout(150)
                for _ in range(2):
                    page.mouse.move(cx, cy)
                    for delta in (-300, -300, 300, 300):
                        page.mouse.wheel(0, delta)
                        page.wait_for_timeout(400)
                frames = page.evaluate(
                    "() => { window.__recording = false; return window.__frames; }"
                )
                frames = [f for f in frames[1:] if f > 0]
                browser.close()
        finally:
            server.stop()
    print(
        json.dumps(
            {
                "bench": "map",
                "nodes": args.nodes,
                "seed_seconds": round(seeded, 1),
                "html_bytes": html,
                "first_render_ms": {
                    "median": statistics.median(renders),
                    "max": max(renders),
                    "runs": renders,
                },
                "html_received_ms": {"median": statistics.median(served), "runs": served},
                "markers_at_start": markers,
                "clusters_at_start": clusters,
                "pan_frames": len(frames),
                "frame_ms": {
                    "p50": round(percentile(frames, 50), 1),
                    "p95": round(percentile(frames, 95), 1),
                    "p99": round(percentile(frames, 99), 1),
                    "max": round(max(frames), 1),
                },
                "frames_over_50ms": sum(1 for f in frames if f > 50),
            }
        )
    )


if __name__ == "__main__":
    main()
