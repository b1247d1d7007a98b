"""MQTT ack latency benchmark: how long a QoS 1 message waits for its PUBACK.

    .venv/bin/python bench/ack.py [--database postgres://postgres@127.0.0.1:5432/sensorgrid_bench_ack]
        [--rate 4000] [--seconds 15] [--rules 1]

A publisher process sends QoS 1 messages (one co2 value each, 50 devices) at a steady
rate through its own Mosquitto; `sensorgrid ingest` runs in this process, and every
acknowledgement is timed from the moment the network thread received the message to
the moment its PUBACK was queued (``Connection.ack``). ``--rules`` threshold rules
watch every node, so alert evaluation has work after each batch (issue 17, item 1:
after-ack consumers run after that moment, before-ack ones before it). The first two
seconds are left out (warm-up). Prints one JSON line.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from common import recreate_database, setup_django, start_mosquitto

DEVICES = 50

PUBLISHER = """
import json, sys, time
from datetime import UTC, datetime
import paho.mqtt.client as mqtt
port, rate, seconds = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
client.max_inflight_messages_set(0)
client.connect("127.0.0.1", port)
client.loop_start()
start = time.monotonic()
n = 0
while (elapsed := time.monotonic() - start) < seconds:
    while n < elapsed * rate:
        body = {"ts": datetime.now(UTC).isoformat(), "values": {"co2": 400 + n % 900}}
        client.publish(f"sensorgrid/bench-{n % 50:03d}/up", json.dumps(body), qos=1)
        n += 1
    time.sleep(0.002)
time.sleep(1)
client.loop_stop()
print(n)
"""


def fixtures(rules: int) -> None:
    from sensorgrid.alerts.models import AlertRule
    from sensorgrid.inventory.models import Node, Quantity
    from sensorgrid.tenancy.models import Organization

    org = Organization.objects.create(name="Bench", slug="bench")
    Node.objects.bulk_create(
        Node(organization=org, device_id=f"bench-{i:03d}") for i in range(DEVICES)
    )
    co2 = Quantity.objects.get(key="co2")
    for i in range(rules):
        AlertRule.objects.create(
            organization=org,
            name=f"co2 {i}",
            kind="threshold",
            params={"above": 1000 + i, "clear": 900, "for_seconds": 60},
            quantity=co2,
        )


def timed_acks(latencies: list[float], batches: list[float]) -> None:
    """Time every acknowledgement, whatever module the connection class lives in:
    per message from its receipt, per batch from when the batch was taken."""
    from sensorgrid.ingest.mqtt import service

    init = service.Ingester.__init__
    commit_and_ack = service.Ingester._commit_and_ack

    def patched(self, *args, **kwargs) -> None:
        init(self, *args, **kwargs)
        ack = self.connection.ack

        def timed(batch):
            acked = ack(batch)
            now = datetime.now(UTC)
            latencies.extend((now - d.received_at).total_seconds() for d in batch)
            batches.append(time.perf_counter() - self.bench_taken)
            return acked

        self.connection.ack = timed

    def taken(self, batch) -> None:
        self.bench_taken = time.perf_counter()
        commit_and_ack(self, batch)

    service.Ingester.__init__ = patched
    service.Ingester._commit_and_ack = taken


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--database", default="postgres://postgres@127.0.0.1:5432/sensorgrid_bench_ack"
    )
    parser.add_argument("--rate", type=float, default=4000, help="messages per second")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--rules", type=int, default=1, help="threshold rules on every node")
    args = parser.parse_args()
    os.environ["SENSORGRID_MQTT_ROUTES"] = "sensorgrid/{device}/up=json"
    os.environ["SENSORGRID_LOG_LEVEL"] = "WARNING"
    recreate_database(args.database)
    setup_django(args.database)
    fixtures(args.rules)
    broker, port = start_mosquitto(Path(tempfile.mkdtemp(prefix="sg-bench-ack-")) / "mosquitto")
    latencies: list[float] = []
    batches: list[float] = []
    timed_acks(latencies, batches)
    published: list[int] = []

    def publish() -> None:
        time.sleep(2)  # the ingester subscribes first
        out = subprocess.run(
            [sys.executable, "-c", PUBLISHER, str(port), str(args.rate), str(args.seconds)],
            capture_output=True,
            text=True,
            check=True,
        )
        published.append(int(out.stdout))

    publisher = threading.Thread(target=publish)
    publisher.start()
    try:
        from django.core.management import call_command

        call_command(
            "ingest",
            broker=f"mqtt://127.0.0.1:{port}",
            client_id="bench-ack",
            idle_exit=3,
        )
    finally:
        publisher.join()
        broker.terminate()
        broker.wait(timeout=10)
    warm = int(2 * args.rate)
    measured = sorted(latencies[warm:])
    ms = lambda q: round(measured[min(int(q * len(measured)), len(measured) - 1)] * 1000, 1)  # noqa: E731
    print(
        json.dumps(
            {
                "bench": "ack",
                "rate_msg_per_s": args.rate,
                "rules": args.rules,
                "published": published[0] if published else None,
                "acked": len(latencies),
                "ack_ms_p50": ms(0.5),
                "ack_ms_p95": ms(0.95),
                "ack_ms_p99": ms(0.99),
                "ack_ms_mean": round(statistics.fmean(measured) * 1000, 1),
                # from taking a batch off the queue to its PUBACKs: the commit, and before
                # issue 17 (item 1) the after-commit consumers too
                "batch_to_ack_ms_median": round(statistics.median(batches[5:]) * 1000, 1),
                "batches": len(batches),
            }
        )
    )


if __name__ == "__main__":
    main()
