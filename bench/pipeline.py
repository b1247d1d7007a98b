"""In-process pipeline benchmark: the CPU time of ``pipeline.ingest_many`` per batch.

    .venv/bin/python bench/pipeline.py [--messages 2000] [--batches 25]

Runs batches of JSON envelopes (one co2 value each, 50 nodes, as the MQTT ingester
builds them) through the pipeline against SQLite in memory, after-commit consumers
included, and prints the median and the best CPU time of this process per batch (the
first five batches are warm-up). CPU time, not wall time: on a shared, loaded machine it
is what the pipeline's Python costs, and it compares two trees run one after the other
(``PYTHONPATH=<tree>/src``). Prints one JSON line.
"""

import argparse
import json
import os
import statistics
import time
from datetime import UTC, datetime, timedelta

os.environ["SENSORGRID_DATABASE_URL"] = "sqlite:///:memory:"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sensorgrid.settings")
os.environ.setdefault("SENSORGRID_LOG_LEVEL", "WARNING")

DEVICES = 50


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=2000, help="envelopes per batch")
    parser.add_argument("--batches", type=int, default=25)
    args = parser.parse_args()
    import django

    django.setup()
    from django.core.management import call_command

    from sensorgrid.ingest import pipeline
    from sensorgrid.ingest.envelope import Envelope
    from sensorgrid.inventory.models import Node
    from sensorgrid.tenancy.models import Organization

    call_command("migrate", verbosity=0)
    org = Organization.objects.create(name="Bench", slug="bench")
    Node.objects.bulk_create(
        Node(organization=org, device_id=f"bench-{i:03d}") for i in range(DEVICES)
    )
    start = datetime.now(UTC) - timedelta(days=30)

    def batch(k: int) -> list[Envelope]:
        envelopes = []
        for i in range(args.messages):
            ts = start + timedelta(seconds=k * args.messages + i)
            device = f"bench-{i % DEVICES:03d}"
            body = {"ts": ts.isoformat(), "values": {"co2": 400 + i % 500}}
            envelopes.append(
                Envelope(
                    source="mqtt",
                    topic=f"sensorgrid/{device}/up",
                    payload=json.dumps(body).encode(),
                    received_at=datetime.now(UTC),
                    device=device,
                )
            )
        return envelopes

    seconds = []
    for k in range(args.batches):
        envelopes = batch(k)
        began = time.process_time()
        pipeline.ingest_many(envelopes, "json")
        seconds.append(time.process_time() - began)
    measured = seconds[5:]
    print(
        json.dumps(
            {
                "bench": "pipeline",
                "messages_per_batch": args.messages,
                "cpu_ms_median": round(statistics.median(measured) * 1000, 1),
                "cpu_ms_best": round(min(measured) * 1000, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
