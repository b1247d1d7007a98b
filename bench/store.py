"""Store benchmark: HTTP batch ingest vs a naive per-reading ORM collector, and a
one-year time-series query via rollups vs raw samples. Real PostgreSQL, one run.

    .venv/bin/python bench/store.py [--database postgres://postgres@127.0.0.1:5432/sensorgrid_bench]

Prints one JSON line. The database named is dropped and created anew.

HTTP ingest is measured twice: as a deployment serves it (``serve --workers 2``,
4 devices posting at once, each on its own keep-alive connection) and, for the
latency-bound view, one device posting one batch after the other to one worker.
"""

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

from common import free_port, recreate_database, setup_django


def fixtures():
    from sensorgrid.inventory.models import Node
    from sensorgrid.tenancy.models import Organization

    org = Organization.objects.create(name="Bench", slug="bench")
    nodes = []
    for i in range(20):
        node = Node(organization=org, device_id=f"bench-{i:03d}")
        credential = node.issue_credential()
        node.save()
        nodes.append((node, credential))
    return org, nodes


def start_server(url: str, workers: int = 1) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {**os.environ, "SENSORGRID_DATABASE_URL": url, "SENSORGRID_INGEST_RATE": "100000/sec"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sensorgrid",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return process, port
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("server did not start")


def http_ingest(
    port: int, nodes, start: datetime, batches: int, batch_size: int, senders: int = 1
) -> float:
    """Readings per second through POST /api/v1/ingest/, ``senders`` devices at once.

    Each sender posts its share of the batches one after the other on a keep-alive
    connection of its own. Bodies are built before the clock starts: the client shares
    the machine's two cores with the server, and its JSON encoding is not the server's
    cost.
    """
    bodies = []
    for b in range(batches):
        node, credential = nodes[b % len(nodes)]
        base = start + timedelta(minutes=b * batch_size // 2)
        messages = [
            {
                "device": node.device_id,
                "ts": (base + timedelta(seconds=30 * i)).isoformat(),
                "values": {"co2": 400 + i % 600, "temperature": 20 + (i % 50) / 10},
            }
            for i in range(batch_size // 2)
        ]
        bodies.append((credential, json.dumps(messages)))
    failures = []

    def send(share) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            for credential, body in share:
                conn.request(
                    "POST",
                    "/api/v1/ingest/",
                    body=body,
                    headers={
                        "Authorization": f"Bearer {credential}",
                        "Content-Type": "application/json",
                    },
                )
                response = conn.getresponse()
                result = json.loads(response.read())
                if response.status != 200 or result["accepted"] != batch_size:
                    raise RuntimeError(f"ingest failed: {response.status} {result}")
        except Exception as exc:  # reported after the run, with the figure withheld
            failures.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=send, args=(bodies[k::senders],)) for k in range(senders)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if failures:
        raise failures[0]
    return batches * batch_size / elapsed


def naive_ingest(nodes, start: datetime, readings: int) -> float:
    """What a collector script does: look up the node, save one ORM object per reading."""
    from sensorgrid.inventory.models import Node, Quantity
    from sensorgrid.telemetry.models import Sample

    began = time.perf_counter()
    for i in range(readings):
        node = Node.objects.get(device_id=nodes[i % len(nodes)][0].device_id)
        quantity = Quantity.objects.get(key="co2" if i % 2 else "temperature")
        Sample.objects.create(
            node=node, quantity=quantity, ts=start + timedelta(seconds=i), value=400 + i % 600
        )
    return readings / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/sensorgrid_bench")
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--naive", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--senders", type=int, default=4, help="devices posting at once")
    args = parser.parse_args()
    recreate_database(args.database)
    setup_django(args.database)
    _org, nodes = fixtures()
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=300)
    rates = {}
    for label, workers, senders, offset in (
        ("deployed", args.workers, args.senders, 0),
        ("one_sender", 1, 1, 100),
    ):
        server, port = start_server(args.database, workers)
        try:
            rates[label] = http_ingest(
                port, nodes, start + timedelta(days=offset), args.batches, args.batch_size, senders
            )
        finally:
            server.terminate()
            server.wait(timeout=10)
    naive = naive_ingest(nodes, start - timedelta(days=30), args.naive)
    result = {
        "bench": "store",
        "database": "postgresql",
        "http_batch_readings_per_s": round(rates["deployed"]),
        "workers": args.workers,
        "senders": args.senders,
        "http_batch_one_sender_readings_per_s": round(rates["one_sender"]),
        "naive_orm_readings_per_s": round(naive),
        "batch_vs_naive": round(rates["deployed"] / naive, 1),
        "one_sender_vs_naive": round(rates["one_sender"] / naive, 1),
        "batch_size": args.batch_size,
        "batches": args.batches,
    }
    result.update(query_benchmark(_org))
    print(json.dumps(result))


def load_year(org, start: datetime) -> tuple[int, int, float]:
    """One node, one year of 1-minute co2 samples through the batch writer."""
    from django.db import transaction

    from sensorgrid.ingest import writer
    from sensorgrid.ingest.validate import Row
    from sensorgrid.inventory.models import Node, Quantity
    from sensorgrid.telemetry import partitions

    node = Node.objects.create(organization=org, device_id="bench-year")
    quantity = Quantity.objects.get(key="co2")
    partitions.ensure(back=13, ahead=1)
    minutes = 365 * 24 * 60
    began = time.perf_counter()
    for offset in range(0, minutes, 20_000):
        rows = [
            Row(node.pk, quantity.pk, start + timedelta(minutes=m), 400.0 + (m * 7919) % 900)
            for m in range(offset, min(offset + 20_000, minutes))
        ]
        with transaction.atomic():
            writer.write(rows)
    return node.pk, quantity.pk, minutes / (time.perf_counter() - began)


def latencies(run, repeats: int) -> tuple[float, float]:
    times = []
    for i in range(repeats):
        began = time.perf_counter()
        run(i)
        times.append((time.perf_counter() - began) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def query_benchmark(org, repeats: int = 40) -> dict:
    """1,000 hourly buckets (about six weeks) somewhere in the year: rollups vs raw."""
    from django.db import connection

    from sensorgrid.telemetry import timeseries

    start = datetime(2025, 1, 1, tzinfo=UTC)
    node_id, quantity_id, load_rate = load_year(org, start)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    def window(i: int) -> tuple[datetime, datetime]:
        begin = start + timedelta(hours=(i * 197) % (365 * 24 - 1000), minutes=17)
        return begin, begin + timedelta(hours=1000)

    def via_rollups(i):
        begin, end = window(i)
        points = timeseries.query(node_id, [quantity_id], begin, end, "1h", limit=2000)
        assert len(points[quantity_id]) == 1001  # 999 whole hours + 2 partial edges

    def via_raw(i):
        begin, end = window(i)
        stats = timeseries._aggregate_raw(node_id, [quantity_id], begin, end, 3600)
        assert len(stats) == 1001

    rollup_p50, rollup_p95 = latencies(via_rollups, repeats)
    raw_p50, raw_p95 = latencies(via_raw, repeats)
    return {
        "year_samples": 365 * 24 * 60,
        "bulk_load_samples_per_s": round(load_rate),
        "query_1000_buckets_rollup_p50_ms": round(rollup_p50, 1),
        "query_1000_buckets_rollup_p95_ms": round(rollup_p95, 1),
        "query_1000_buckets_raw_p50_ms": round(raw_p50, 1),
        "query_1000_buckets_raw_p95_ms": round(raw_p95, 1),
        "raw_vs_rollup_p95": round(raw_p95 / rollup_p95, 1),
    }


if __name__ == "__main__":
    main()
