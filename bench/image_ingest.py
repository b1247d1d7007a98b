"""Image ingest benchmark: 1,000 pictures of ~100 KB arrive at once over MQTT, and the
HTTP endpoint's throughput. PostgreSQL, own Mosquitto, the filesystem store.

    .venv/bin/python bench/image_ingest.py [--database postgres://postgres@127.0.0.1:5432/sensorgrid_bench_images]
                                           [--count 1000] [--inflight 10000 100]

MQTT: the backlog is published while no consumer runs (the broker keeps it in the
persistent session), then one `sensorgrid ingest` process drains it; pictures/s from
its first to its last stored picture, and its memory for each ``--inflight``
(SENSORGRID_MQTT_INFLIGHT: how many unacknowledged pictures it takes from the broker at
once, its bounded queue): the kernel's peak (VmHWM) and the largest resident size
sampled every 0.5 s (VmRSS), against the baseline of the same process started with
nothing to drain (the run that creates its session, same settings). HTTP: POST
/api/v1/ingest/images/ through Django's test client in this process (no network),
pictures/s. Prints one JSON line.
"""

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from subprocess import DEVNULL

from common import recreate_database, setup_django, start_mosquitto

DEVICES = 10


def pictures(count: int = 20, size: tuple[int, int] = (420, 320)) -> list[bytes]:
    """Distinct noisy JPEGs of about 100 KB (noise compresses badly, like a real scene)."""
    from PIL import Image, ImageFilter

    out = []
    for n in range(count):
        noise = Image.effect_noise(size, 40 + n).filter(ImageFilter.SMOOTH)
        picture = Image.merge("RGB", (noise, noise.rotate(90, expand=False), noise))
        buffer = io.BytesIO()
        picture.save(buffer, "JPEG", quality=95)
        out.append(buffer.getvalue())
    return out


def memory_mb(pid: int, field: str = "VmHWM") -> float:
    """The process's peak (VmHWM) or current (VmRSS) resident memory, MB; 0 once gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def watch(process: subprocess.Popen, every: float = 0.05, on_tick=None) -> dict:
    """Until ``process`` exits: its VmHWM, and the largest VmRSS sampled every 0.5 s."""
    peak = sampled = 0.0
    next_sample = time.monotonic()
    while process.poll() is None:
        peak = max(peak, memory_mb(process.pid))
        if time.monotonic() >= next_sample:
            sampled = max(sampled, memory_mb(process.pid, "VmRSS"))
            next_sample += 0.5
        if on_tick is not None:
            on_tick()
        time.sleep(every)
    return {"peak_rss_mb": round(peak, 1), "sampled_rss_max_mb": round(sampled, 1)}


def drain_mqtt(
    port: int, devices: list[str], blobs: list[bytes], count: int, inflight: int, env: dict
) -> dict:
    from tests.support.publisher import publish

    from sensorgrid.images.models import Image
    from sensorgrid.mqtt import Broker

    Image.objects.all().delete()
    client_id = f"bench-images-{inflight}"
    command = [
        sys.executable,
        "-m",
        "sensorgrid",
        "ingest",
        "--broker",
        f"mqtt://127.0.0.1:{port}",
        "--client-id",
        client_id,
        "--idle-exit",
        "3",
    ]
    run_env = {**env, "SENSORGRID_MQTT_INFLIGHT": str(inflight)}
    # The session, and the baseline: the same process with nothing to drain.
    idle = watch(subprocess.Popen(command, env=run_env, stdout=DEVNULL, stderr=DEVNULL))
    messages = (
        (f"sensorgrid/{devices[n % DEVICES]}/image/cam", blobs[n % len(blobs)])
        for n in range(count)
    )
    sent = publish(Broker("127.0.0.1", port), messages, window=200)
    process = subprocess.Popen(
        command, env=run_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    first = last = None

    def progress() -> None:
        nonlocal first, last
        stored = Image.objects.count()
        now = time.monotonic()
        if stored and first is None:
            first = now
        if stored >= count and last is None:
            last = now

    memory = watch(process, on_tick=progress)
    stored = Image.objects.count()
    elapsed = (last or time.monotonic()) - (first or time.monotonic())
    return {
        "published": sent,
        "stored": stored,
        "pictures_per_s": round(stored / elapsed, 1) if elapsed > 0 else None,
        **memory,
        "idle_peak_rss_mb": idle["peak_rss_mb"],
    }


def http(devices_nodes, blobs: list[bytes], count: int) -> dict:
    from django.test import Client

    from sensorgrid.images.models import Image

    Image.objects.all().delete()
    node = devices_nodes[0]
    credential = node.issue_credential()
    node.save(update_fields=["credential_digest"])
    client = Client(HTTP_AUTHORIZATION=f"Bearer {credential}", HTTP_HOST="localhost")
    started = time.monotonic()
    for n in range(count):
        response = client.post(
            f"/api/v1/ingest/images/?name=cam&ts={1_790_000_000 + n}",
            data=blobs[n % len(blobs)],
            content_type="image/jpeg",
        )
        assert response.status_code == 200, response.content
    elapsed = time.monotonic() - started
    return {"stored": Image.objects.count(), "pictures_per_s": round(count / elapsed, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--database", default="postgres://postgres@127.0.0.1:5432/sensorgrid_bench_images"
    )
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--http-count", type=int, default=200)
    parser.add_argument("--inflight", type=int, nargs="+", default=[10_000, 100])
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sg-bench-images-"))
    os.environ["SENSORGRID_IMAGES_DIR"] = str(work / "images")
    os.environ["SENSORGRID_INGEST_RATE"] = "100000/min"
    os.environ["SENSORGRID_LOG_LEVEL"] = "WARNING"
    recreate_database(args.database)
    setup_django(args.database)
    from sensorgrid.inventory.models import Node
    from sensorgrid.tenancy.models import Organization

    org = Organization.objects.create(name="Bench", slug="bench")
    devices = [f"cam-{i:02d}" for i in range(DEVICES)]
    nodes = Node.objects.bulk_create(Node(organization=org, device_id=d) for d in devices)
    blobs = pictures()
    broker, port = start_mosquitto(work / "mosquitto")
    env = {
        **os.environ,
        "SENSORGRID_DATABASE_URL": args.database,
        "SENSORGRID_LOG_LEVEL": "WARNING",
    }
    try:
        mqtt = {str(n): drain_mqtt(port, devices, blobs, args.count, n, env) for n in args.inflight}
    finally:
        broker.terminate()
    result = {
        "bench": "image_ingest",
        "picture_bytes": round(sum(map(len, blobs)) / len(blobs)),
        "count": args.count,
        "mqtt_by_inflight": mqtt,
        "http_in_process": http(nodes, blobs, args.http_count),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
