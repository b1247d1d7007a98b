"""Store benchmark: HTTP batch ingest vs a naive per-reading ORM collector, and a
one-year time-series query via rollups vs raw samples. Real PostgreSQL, one run.

    .venv/bin/python bench/store.py [--database postgres://postgres@127.0.0.1:5432/sensorgrid_bench]

Prints one JSON line. The database named is dropped and created anew.

HTTP ingest is measured twice: as a deployment serves it (``serve --workers 2``,
4 devices posting at once, each on its own keep-alive connection) and, for the
latency-bound view, one device posting one batch after the other to one worker.
Both in SensorGrid JSON (``POST /api/v1/ingest/``) and, the same readings, in InfluxDB
line protocol as Telegraf sends it (``POST /api/v2/write``, gzip).

    .venv/bin/python bench/store.py --mode ingest   # only the HTTP ingest figures
"""

import argparse
import gzip
import http.client
import json
import threading
import time
from datetime import UTC, datetime, timedelta

from common import recreate_database, setup_django, start_server, timed


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


def http_ingest(
    port: int,
    nodes,
    start: datetime,
    batches: int,
    batch_size: int,
    senders: int = 1,
    fmt: str = "json",
) -> float:
    """Readings per second through POST /api/v1/ingest/ (``fmt`` "json") or
    /api/v2/write (``fmt`` "influx": line protocol, gzip, as Telegraf sends it),
    ``senders`` devices at once.

    Each sender posts its share of the batches one after the other on a keep-alive
    connection of its own. Bodies are built before the clock starts: the client shares
    the machine's two cores with the server, and its encoding is not the server's cost.
    """
    bodies = []
    for b in range(batches):
        node, credential = nodes[b % len(nodes)]
        base = start + timedelta(minutes=b * batch_size // 2)
        readings = [
            (base + timedelta(seconds=30 * i), 400 + i % 600, 20 + (i % 50) / 10)
            for i in range(batch_size // 2)
        ]
        if fmt == "json":
            messages = [
                {
                    "device": node.device_id,
                    "ts": ts.isoformat(),
                    "values": {"co2": co2, "temperature": t},
                }
                for ts, co2, t in readings
            ]
            bodies.append((credential, json.dumps(messages).encode()))
        else:
            lines = "".join(
                f"air,device={node.device_id} co2={co2}i,temperature={t} "
                f"{int(ts.timestamp()) * 10**9}\n"
                for ts, co2, t in readings
            )
            bodies.append((credential, gzip.compress(lines.encode())))
    path, scheme, headers = {
        "json": ("/api/v1/ingest/", "Bearer", {"Content-Type": "application/json"}),
        "influx": (
            "/api/v2/write?org=bench&bucket=bench&precision=ns",
            "Token",
            {"Content-Type": "text/plain; charset=utf-8", "Content-Encoding": "gzip"},
        ),
    }[fmt]
    failures = []

    def send(share) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            for credential, body in share:
                conn.request(
                    "POST",
                    path,
                    body=body,
                    headers={"Authorization": f"{scheme} {credential}", **headers},
                )
                response = conn.getresponse()
                answer = response.read()
                if fmt == "influx":
                    if response.status != 204:
                        raise RuntimeError(f"write failed: {response.status} {answer!r}")
                    continue
                result = json.loads(answer)
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
    parser.add_argument(
        "--mode",
        choices=("all", "ingest"),
        default="all",
        help="ingest: only HTTP ingest, JSON and line protocol (no naive collector, no queries)",
    )
    parser.add_argument("--repeat", type=int, default=1, help="HTTP runs, best of")
    args = parser.parse_args()
    recreate_database(args.database)
    setup_django(args.database)
    _org, nodes = fixtures()
    # One HTTP run writes batches × batch_size/2 minutes of data (35 days by default);
    # runs start that far apart, so none repeats another's samples, all in the past.
    span = args.batches * (args.batch_size // 2) // 1440 + 2
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=span * (4 * args.repeat + 1))
    rates: dict[str, float] = {}
    # JSON and line protocol side by side, alternating, best of --repeat: on a shared
    # machine the load moves between runs, and the ratio is what is reported.
    runs = [
        ("deployed", args.workers, args.senders, "json"),
        ("influx_deployed", args.workers, args.senders, "influx"),
        ("one_sender", 1, 1, "json"),
        ("influx_one_sender", 1, 1, "influx"),
    ]
    for repeat in range(args.repeat):
        for number, (label, workers, senders, fmt) in enumerate(runs):
            offset = span * (number + len(runs) * repeat)  # never a duplicate
            server, port = start_server(args.database, workers)
            try:
                rate = http_ingest(
                    port,
                    nodes,
                    start + timedelta(days=offset),
                    args.batches,
                    args.batch_size,
                    senders,
                    fmt,
                )
            finally:
                server.terminate()
                server.wait(timeout=10)
            rates[label] = max(rate, rates.get(label, 0.0))
    result = {
        "bench": "store",
        "database": "postgresql",
        "http_batch_readings_per_s": round(rates["deployed"]),
        "workers": args.workers,
        "senders": args.senders,
        "http_batch_one_sender_readings_per_s": round(rates["one_sender"]),
        "influx_write_readings_per_s": round(rates["influx_deployed"]),
        "influx_write_one_sender_readings_per_s": round(rates["influx_one_sender"]),
        "influx_vs_json": round(rates["influx_deployed"] / rates["deployed"], 2),
        "influx_vs_json_one_sender": round(rates["influx_one_sender"] / rates["one_sender"], 2),
        "batch_size": args.batch_size,
        "batches": args.batches,
        "repeat": args.repeat,
    }
    if args.mode == "all":
        naive = naive_ingest(nodes, start - timedelta(days=30), args.naive)
        result.update(
            {
                "naive_orm_readings_per_s": round(naive),
                "batch_vs_naive": round(rates["deployed"] / naive, 1),
                "one_sender_vs_naive": round(rates["one_sender"] / naive, 1),
            }
        )
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

    rollup_p50, rollup_p95 = timed(via_rollups, repeats)
    raw_p50, raw_p95 = timed(via_raw, repeats)
    return {
        "year_samples": 365 * 24 * 60,
        "bulk_load_samples_per_s": round(load_rate),
        "query_1000_buckets_rollup_p50_ms": rollup_p50,
        "query_1000_buckets_rollup_p95_ms": rollup_p95,
        "query_1000_buckets_raw_p50_ms": raw_p50,
        "query_1000_buckets_raw_p95_ms": raw_p95,
        "raw_vs_rollup_p95": round(raw_p95 / rollup_p95, 1),
    }


if __name__ == "__main__":
    main()
