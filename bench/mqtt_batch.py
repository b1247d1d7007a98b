"""One MQTT batch's CPU, in process: the ingest's Python and its PostgreSQL backend.

    .venv/bin/python bench/mqtt_batch.py [--batch 5000] [--batches 8] [--profile]
        [--no-fillfactor] [--database postgres://postgres@127.0.0.1:5432/sensorgrid_bench_batch]

Issue 24, target 1: where a message's CPU goes. Recreates the database (1,000 ALIVE
nodes), builds batches of the workload of ``bench/mqtt_vs_reference.py`` (three readings
per message — co2, temperature, humidity — over 1,000 devices on
``sensorgrid/<device>/up``), and hands each to ``Ingester._write`` as the MQTT service
does after taking it off its queue (routing, envelopes, every pipeline step, the
transaction), then runs the after-ack consumers. Per batch: CPU µs per message of this
process (``time.process_time``) and of its PostgreSQL backend (``/proc/<pid>/stat``), and
the wall time. No broker: paho's thread is not in it. What start-up built is frozen out
of the cyclic collector as ``Ingester.run`` does (``gc.freeze``). The first two batches
are warm-up. ``--profile`` prints cProfile's functions of the other batches (cumulative
and own time); ``--no-fillfactor`` resets the storage parameter of the updated tables
(migrations telemetry 0012, inventory 0013) to compare. Prints one JSON line first.
"""

import argparse
import cProfile
import gc
import json
import os
import pstats
import random
import statistics
import time
from datetime import UTC, datetime, timedelta

from common import recreate_database, setup_django

TICK = os.sysconf("SC_CLK_TCK")
NODES = 1000
UPDATED = ("telemetry_latest", "telemetry_rollup", "inventory_node")


def ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        data = f.read()
    fields = data[data.rfind(")") + 2 :].split()
    return int(fields[11]) + int(fields[12])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--database", default="postgres://postgres@127.0.0.1:5432/sensorgrid_bench_batch"
    )
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--batches", type=int, default=8)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--no-fillfactor", action="store_true")
    args = parser.parse_args()
    os.environ["SENSORGRID_MQTT_ROUTES"] = "sensorgrid/{device}/up=json"
    os.environ.setdefault("SENSORGRID_LOG_LEVEL", "WARNING")
    recreate_database(args.database)
    setup_django(args.database)
    from django.db import connection
    from django.utils import timezone

    from sensorgrid import events
    from sensorgrid.ingest.mqtt import config
    from sensorgrid.ingest.mqtt.client import Received
    from sensorgrid.ingest.mqtt.service import Ingester
    from sensorgrid.inventory.models import Node, NodeStatus
    from sensorgrid.tenancy.models import Organization

    with connection.cursor() as cursor:
        if args.no_fillfactor:
            for table in UPDATED:
                cursor.execute(f"ALTER TABLE {table} RESET (fillfactor)")
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    org = Organization.objects.create(name="Bench", slug="bench")
    seen = timezone.now()
    Node.objects.bulk_create(
        Node(organization=org, device_id=f"n{i:04d}", status=NodeStatus.ALIVE, last_seen=seen)
        for i in range(1, NODES + 1)
    )
    rng = random.Random(1)
    start = datetime.now(UTC) - timedelta(hours=3)

    def batch(k: int) -> list[Received]:
        out = []
        for i in range(args.batch):
            n = k * args.batch + i
            body = {
                "ts": (start + timedelta(microseconds=n * 997)).isoformat(),
                "values": {
                    "co2": 400 + n % 500,
                    "temperature": round(20 + rng.random() * 5, 2),
                    "humidity": round(40 + rng.random() * 20, 2),
                },
            }
            topic = f"sensorgrid/n{n % NODES + 1:04d}/up"
            out.append(Received(topic, json.dumps(body).encode(), 1, i + 1, 1, datetime.now(UTC)))
        return out

    batches = [batch(k) for k in range(args.batches)]

    class NoBroker:
        def __init__(self, *args: object, **kwargs: object) -> None:
            pass

    ingester = Ingester(config.options("mqtt://127.0.0.1:1"), config.route_table(), NoBroker)
    gc.collect()
    gc.freeze()  # as Ingester.run: full collections walk only what the batches make
    profile = cProfile.Profile() if args.profile else None
    python, postgres, wall = [], [], []
    for k, received in enumerate(batches):
        measured = profile is not None and k >= 2
        t0, c0, g0 = time.perf_counter(), time.process_time(), ticks(backend)
        if measured:
            profile.enable()
        with events.deferred() as after_ack:
            ingester._write(received)
        after_ack.run()
        if measured:
            profile.disable()
        python.append((time.process_time() - c0) * 1e6 / args.batch)
        postgres.append((ticks(backend) - g0) / TICK * 1e6 / args.batch)
        wall.append((time.perf_counter() - t0) * 1e3)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables "
            "WHERE relname = ANY(%s)",
            [list(UPDATED)],
        )
        hot = {table: [updated, hot] for table, updated, hot in cursor.fetchall()}
    print(
        json.dumps(
            {
                "bench": "mqtt_batch",
                "batch": args.batch,
                "fillfactor": not args.no_fillfactor,
                "python_us_per_msg": round(statistics.median(python[2:]), 1),
                "postgres_us_per_msg": round(statistics.median(postgres[2:]), 1),
                "wall_ms": round(statistics.median(wall[2:])),
                "per_batch": {
                    "python": [round(x) for x in python],
                    "postgres": [round(x) for x in postgres],
                },
                "updates_hot": hot,
                "loadavg": [round(x, 2) for x in os.getloadavg()],
            }
        )
    )
    if profile is not None:
        stats = pstats.Stats(profile)
        stats.sort_stats("cumulative").print_stats(40)
        stats.sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
