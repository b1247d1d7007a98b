"""Soak: the whole deployment under steady load, for an hour (or 5 minutes, the default).

    flock /work/notes/bench.lock .venv/bin/python bench/soak.py            # 5 minutes
    flock /work/notes/bench.lock .venv/bin/python bench/soak.py --minutes 60
        [--rate 1000] [--devices 10000] [--clients 200]
        [--database postgres://postgres@127.0.0.1:5432/sensorgrid_bench_soak]

Real services, all started by the bench and of its own: PostgreSQL (a fresh database),
Mosquitto and Redis on free ports, `sensorgrid ingest`, `sensorgrid worker` and
`sensorgrid serve`. A publisher process sends ``--rate`` QoS 1 messages a second (3
readings each, stamped with the time of publishing) from ``--devices`` simulated
devices, each in turn (a device every devices/rate seconds). ``--clients`` WebSocket
clients, in ``--client-procs`` processes, together follow every device: each subscribes
to its own room, where devices/clients of them are installed (a dashboard page follows
a room or a site: one subscription), and notes each delta's arrival.

Reported (one JSON line):

- lost and duplicated messages: the publisher's acknowledged messages against the
  distinct messages stored (each with exactly its 3 samples); deltas each client missed
  or saw twice (every message of every device should reach its one subscriber);
- dead letters (must be 0);
- RSS of every process at the start of the measurement (after ``--warmup`` seconds)
  and at the end, and the largest sampled (every second);
- PostgreSQL growth of the samples table (heap and indexes, over all partitions) and
  of the rollups, in MB per million samples stored during the measurement;
- ingest lag: the ingest's own ``sensorgrid_ingest_lag_seconds`` (receipt of a batch's
  oldest message → its commit) sampled every second, p50/p99/max;
- live latency: device publish → WebSocket frame at the client (same clock), p50/p99.

The baseline is the run's own start: RSS and sizes at the start against the end.
"""

import argparse
import array
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import (
    connects,
    free_port,
    recreate_database,
    start_mosquitto,
    tree_rss_mb,
    wait_for,
    wait_healthy,
)

KEYS = ("co2", "temperature", "humidity")

PUBLISHER = """
import json, sys, time
from datetime import UTC, datetime
import paho.mqtt.client as mqtt
port, rate, seconds, devices = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), \
    int(sys.argv[4])
acked = 0
def on_publish(client, userdata, mid, reason_code, properties):
    global acked
    acked += 1
client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="soak-publisher",
                     protocol=mqtt.MQTTv5)
client.max_inflight_messages_set(0)
client.max_queued_messages_set(0)
client.on_publish = on_publish
client.connect("127.0.0.1", port)
client.loop_start()
print("ready", flush=True)
start = time.monotonic()
n = 0
while (elapsed := time.monotonic() - start) < seconds:
    while n < elapsed * rate:
        now = datetime.now(UTC)
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)
        body = {"ts": now.isoformat(), "values": {"co2": 400 + n % 900,
                "temperature": 20 + n % 7, "humidity": 40 + n % 30}}
        client.publish(f"sensorgrid/soak-{n % devices:05d}/up", json.dumps(body), qos=1)
        n += 1
    time.sleep(0.005)
deadline = time.monotonic() + 60
while acked < n and time.monotonic() < deadline:
    time.sleep(0.1)
client.loop_stop()
print(json.dumps({"published": n, "acked": acked}), flush=True)
"""


# -- the client processes ---------------------------------------------------------------


async def websocket_clients(args) -> dict:
    """Clients ``--first`` … of ``--clients``; each subscribes to its share of nodes."""
    import websockets

    rooms = json.loads(Path(args.nodes_file).read_text())["rooms"]
    latencies = array.array("f")  # ms, publish → receipt
    received: dict[int, int] = {}  # node → deltas
    newest: dict[int, str] = {}  # node → newest delta ts
    repeated = 0
    ready = 0
    failed: list[str] = []
    closed = 0

    def ms_of(ts: str) -> float:
        return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp() * 1000

    async def session(index: int) -> None:
        nonlocal ready, repeated, closed
        url = f"ws://127.0.0.1:{args.port}/ws/live/"
        async with websockets.connect(
            url,
            origin=f"http://127.0.0.1:{args.port}",
            max_queue=None,
            compression=None,
            ping_interval=None,
            open_timeout=60,
        ) as ws:
            await ws.send(json.dumps({"subscribe": {"room": rooms[index]}}))
            subscribed = json.loads(await ws.recv())
            assert subscribed["type"] == "subscribed", subscribed
            snapshots = 0
            while snapshots < len(subscribed["nodes"]):  # a snapshot of each node
                snapshots += json.loads(await ws.recv())["type"] == "snapshot"
            ready += 1
            try:
                async for raw in ws:
                    now = time.time() * 1000
                    frame = json.loads(raw)
                    if frame["type"] != "delta":
                        continue
                    node, ts = frame["node"], frame["ts"]
                    if newest.get(node, "") >= ts:
                        repeated += 1
                        continue
                    newest[node] = ts
                    received[node] = received.get(node, 0) + 1
                    latencies.append(now - ms_of(ts))
            except websockets.ConnectionClosed:
                closed += 1

    async def client(index: int) -> None:
        try:
            await session(index)
        except asyncio.CancelledError:
            pass
        except Exception as exc:
            failed.append(repr(exc))

    tasks = [asyncio.create_task(client(i)) for i in range(args.first, args.first + args.clients)]
    while ready + len(failed) < args.clients:
        await asyncio.sleep(0.05)
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)  # the parent says stop
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    Path(args.out + ".lat").write_bytes(latencies.tobytes())
    return {
        "received": received,
        "repeated": repeated,
        "connected": ready,
        "failed": len(failed),
        "failures": sorted(set(failed))[:3],
        "closed": closed,
    }


def client_process(args) -> None:
    result = asyncio.run(websocket_clients(args))
    Path(args.out).write_text(json.dumps(result))


# -- the bench process --------------------------------------------------------------------


def fixtures(devices: int, clients: int) -> tuple[list[int], list[int]]:
    """Nodes, and one room per client where every clients-th node is installed."""
    from sensorgrid.inventory.models import Installation, Node, Room, Site
    from sensorgrid.telemetry import partitions
    from sensorgrid.tenancy.models import Organization

    org = Organization.objects.create(name="Soak", slug="soak")
    site = Site.objects.create(organization=org, name="Site")
    rooms = [Room.objects.create(site=site, name=f"R{k}").pk for k in range(max(1, clients))]
    Node.objects.bulk_create(
        (Node(organization=org, device_id=f"soak-{i:05d}") for i in range(devices)),
        batch_size=2000,
    )
    nodes = list(Node.objects.order_by("device_id").values_list("pk", flat=True))
    start = datetime.now(UTC) - timedelta(days=1)
    # public, so that anonymous WebSocket clients may follow them (as a public display)
    Installation.objects.bulk_create(
        (
            Installation(node_id=pk, room_id=rooms[n % len(rooms)], start=start, is_public=True)
            for n, pk in enumerate(nodes)
        ),
        batch_size=2000,
    )
    partitions.ensure()
    return nodes, rooms


def start_redis(directory: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    process = subprocess.Popen(
        [
            *(shutil.which("redis-server") or "/usr/bin/redis-server", "--port", str(port)),
            *("--bind", "127.0.0.1", "--save", "", "--appendonly", "no"),
            *("--dir", str(directory)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for(lambda: connects(port), "redis")
    return process, port


def postgres_rss_mb(database: str) -> float:
    """RSS of the PostgreSQL backends serving the bench's database."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [database])
        pids = [pid for (pid,) in cursor.fetchall()]
    return sum(tree_rss_mb(pid) for pid in pids)


def ingest_metric(port: int, prefix: str) -> float | None:
    """The first value of a metric on the ingest's own /metrics port."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as answer:
            text = answer.read().decode()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(prefix):
            return float(line.rsplit(" ", 1)[1])
    return None


def ingest_lag(port: int) -> float | None:
    return ingest_metric(port, "sensorgrid_ingest_lag_seconds")


def sizes() -> dict[str, float]:
    """Bytes of the samples' heap and indexes (all partitions) and of the rollups."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT coalesce(sum(pg_table_size(c.oid)), 0), coalesce(sum(pg_indexes_size(c.oid)), 0)
            FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'telemetry_sample'::regclass
            """
        )
        heap, index = cursor.fetchone()
        cursor.execute(
            "SELECT pg_table_size('telemetry_rollup'), pg_indexes_size('telemetry_rollup')"
        )
        rollup_heap, rollup_index = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM telemetry_sample")
        (samples,) = cursor.fetchone()
    return {
        "samples": samples,
        "sample_heap": int(heap),
        "sample_index": int(index),
        "rollup_heap": int(rollup_heap),
        "rollup_index": int(rollup_index),
    }


class Watch(threading.Thread):
    """Every second: RSS of each process, the ingest's lag gauge."""

    def __init__(self, processes: dict[str, int], metrics_port: int, database: str) -> None:
        super().__init__(daemon=True)
        self.processes = processes
        self.metrics_port = metrics_port
        self.database = database
        self.rss: dict[str, list[float]] = {name: [] for name in [*processes, "postgresql"]}
        self.lag: list[float] = []
        self.stop = threading.Event()

    def run(self) -> None:
        from django.db import connection

        while not self.stop.wait(1.0):
            for name, pid in self.processes.items():
                self.rss[name].append(tree_rss_mb(pid))
            self.rss["postgresql"].append(postgres_rss_mb(self.database))
            lag = ingest_lag(self.metrics_port)
            if lag is not None:
                self.lag.append(lag)
        connection.close()


def quantile(values, q: float) -> float | None:
    values = sorted(values)
    if not values:
        return None
    return round(values[min(len(values) - 1, int(q * len(values)))], 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--role", default="bench", choices=["bench", "ws"])
    parser.add_argument(
        "--database", default="postgres://postgres@127.0.0.1:5432/sensorgrid_bench_soak"
    )
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--rate", type=float, default=1000, help="messages a second")
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--client-procs", type=int, default=2)
    parser.add_argument("--warmup", type=float, default=20, help="seconds before 'start'")
    # for the client processes
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--first", type=int, default=0)
    parser.add_argument("--total-clients", type=int, default=0)
    parser.add_argument("--nodes-file", default="")
    parser.add_argument("--out", default="")
    args = parser.parse_args()
    if args.role == "ws":
        client_process(args)
        return

    work = Path(tempfile.mkdtemp(prefix="sg-bench-soak-"))
    redis, redis_port = start_redis(work)
    os.environ["SENSORGRID_REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"
    os.environ["SENSORGRID_LOG_LEVEL"] = "WARNING"
    os.environ["SENSORGRID_MQTT_ROUTES"] = "sensorgrid/{device}/up=json"
    recreate_database(args.database)
    from common import setup_django

    setup_django(args.database)
    nodes, rooms = fixtures(args.devices, args.clients)
    (work / "nodes.json").write_text(json.dumps({"nodes": nodes, "rooms": rooms}))
    broker, mqtt_port = start_mosquitto(work / "mosquitto")
    metrics_port, web_port = free_port(), free_port()
    env = {**os.environ, "SENSORGRID_DATABASE_URL": args.database}
    python = [sys.executable, "-m", "sensorgrid"]
    services: dict[str, subprocess.Popen] = {"mosquitto": broker, "redis": redis}
    clients: list[tuple[subprocess.Popen, Path]] = []
    try:
        for name, command in (
            (
                "ingest",
                [
                    *(*python, "ingest", "--broker", f"mqtt://127.0.0.1:{mqtt_port}"),
                    *("--client-id", "soak-ingest", "--metrics-port", str(metrics_port)),
                ],
            ),
            ("worker", [*python, "worker"]),
            ("serve", [*python, "serve", "--port", str(web_port), "--workers", "1"]),
        ):
            log = (work / f"{name}.log").open("wb")
            services[name] = subprocess.Popen(
                command, env=env, stdout=subprocess.DEVNULL, stderr=log
            )
        wait_healthy(services["serve"], web_port, timeout=60)
        wait_for(lambda: ingest_lag(metrics_port) is not None or connects(metrics_port), "ingest")
        procs = max(1, min(args.client_procs, args.clients))
        share = -(-args.clients // procs)
        for k in range(procs):
            first, count = k * share, min(share, args.clients - k * share)
            out = work / f"clients-{k}.json"
            command = [
                *(sys.executable, __file__, "--role", "ws", "--port", str(web_port)),
                *("--first", str(first), "--clients", str(count)),
                *("--total-clients", str(args.clients), "--nodes-file", str(work / "nodes.json")),
                *("--out", str(out)),
            ]
            process = subprocess.Popen(
                command, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE
            )
            clients.append((process, out))
        for process, _ in clients:
            if process.stdout.readline().strip() != b"ready":
                raise RuntimeError("the WebSocket clients did not start")
        seconds = args.minutes * 60
        publisher = subprocess.Popen(
            [
                *(sys.executable, "-c", PUBLISHER, str(mqtt_port), str(args.rate)),
                *(str(seconds), str(args.devices)),
            ],
            env=env,
            stdout=subprocess.PIPE,
        )
        assert publisher.stdout.readline().strip() == b"ready"
        pids = {name: p.pid for name, p in services.items()}
        pids |= {f"clients_{k}": p.pid for k, (p, _) in enumerate(clients)}
        pids["publisher"] = publisher.pid
        watch = Watch(pids, metrics_port, args.database.rsplit("/", 1)[1])
        watch.start()
        began = time.monotonic()
        time.sleep(args.warmup)
        at_start = sizes()
        rss_start = {name: values[-1] for name, values in watch.rss.items() if values}
        lag_from = len(watch.lag)
        print(f"soak: measuring for {seconds - args.warmup:.0f} s", file=sys.stderr, flush=True)
        publisher_out, _ = publisher.communicate(timeout=seconds + 120)
        sent = json.loads(publisher_out.decode().strip().splitlines()[-1])
        # the ingest commits the last batches, the last deltas arrive
        expected = sent["acked"] * len(KEYS)
        # (a backlog, if the ingest fell behind, is drained while it makes progress)
        stored, progress_at = 0, time.monotonic()
        while stored < expected and time.monotonic() - progress_at < 60:
            time.sleep(1)
            now_stored = sizes()["samples"]
            if now_stored > stored:
                stored, progress_at = now_stored, time.monotonic()
        drain_s = time.monotonic() - began - seconds
        time.sleep(3)
        elapsed = time.monotonic() - began
        at_end = sizes()
        duplicates = ingest_metric(
            metrics_port, 'sensorgrid_ingest_samples_total{result="duplicate"}'
        )
        # (the publisher has exited by now: its last reading)
        rss_end = {
            name: [v for v in values if v][-1] for name, values in watch.rss.items() if any(values)
        }
        watch.stop.set()
        watch.join()
        for process, _ in clients:
            process.stdin.write(b"stop\n")
            process.stdin.flush()
        results = []
        latencies = array.array("f")
        for process, out in clients:
            process.wait(timeout=120)
            results.append(json.loads(out.read_text()))
            latencies.frombytes(Path(str(out) + ".lat").read_bytes())
    finally:
        for process, _ in clients:
            if process.poll() is None:
                process.kill()
        for name in ("ingest", "worker", "serve", "mosquitto", "redis"):
            process = services.get(name)
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
    result = report(args, sent, at_start, at_end, rss_start, rss_end, watch, lag_from, results)
    warm = int(args.warmup * args.rate)  # the first deltas: connections and caches warming
    measured = sorted(latencies[warm:])
    result |= {
        "duplicate_samples_absorbed_by_ingest": duplicates,
        "live_latency_p50_ms": quantile(measured, 0.5),
        "live_latency_p99_ms": quantile(measured, 0.99),
        "live_latency_max_ms": quantile(measured, 1.0),
        "elapsed_s": round(elapsed),
        "drain_after_publishing_s": round(drain_s),
    }
    print(json.dumps(result))


def report(args, sent, at_start, at_end, rss_start, rss_end, watch, lag_from, results) -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), count(*) FILTER (WHERE n <> %s) FROM ("
            " SELECT node_id, ts, count(*) AS n FROM telemetry_sample GROUP BY node_id, ts) m",
            [len(KEYS)],
        )
        messages, incomplete = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM telemetry_deadletter")
        (dead,) = cursor.fetchone()
    received: dict[str, int] = {}
    for result in results:
        for node, count in result["received"].items():
            received[node] = received.get(node, 0) + count
    deltas = sum(received.values())
    added = (at_end["samples"] - at_start["samples"]) / 1e6
    per_million = lambda key: round((at_end[key] - at_start[key]) / 2**20 / added, 1)  # noqa: E731
    lags = watch.lag[lag_from:]
    return {
        "bench": "soak",
        "database": "postgresql",
        "minutes": args.minutes,
        "rate_msg_per_s": args.rate,
        "devices": args.devices,
        "clients": args.clients,
        "published": sent["published"],
        "acked": sent["acked"],
        "stored_messages": messages,
        "stored_samples": at_end["samples"],
        "lost_messages": sent["acked"] - messages,
        "duplicated_messages": max(0, messages - sent["published"]),
        "messages_without_3_samples": incomplete,
        "dead_letters": dead,
        "live_deltas": deltas,
        "live_missing_deltas": sent["published"] - deltas,
        "live_repeated_deltas": sum(r["repeated"] for r in results),
        "clients_connected": sum(r["connected"] for r in results),
        "clients_failed": sum(r["failed"] for r in results),
        "clients_closed": sum(r["closed"] for r in results),
        "client_failures": sorted({f for r in results for f in r["failures"]})[:3],
        "rss_start_mb": {k: round(v) for k, v in rss_start.items()},
        "rss_end_mb": {k: round(v) for k, v in rss_end.items()},
        "rss_max_mb": {k: round(max(v)) for k, v in watch.rss.items() if v},
        "samples_measured": at_end["samples"] - at_start["samples"],
        "sample_heap_mb_per_million": per_million("sample_heap"),
        "sample_index_mb_per_million": per_million("sample_index"),
        "rollup_mb_per_million": round(
            (
                at_end["rollup_heap"]
                + at_end["rollup_index"]
                - at_start["rollup_heap"]
                - at_start["rollup_index"]
            )
            / 2**20
            / added,
            2,
        ),
        "sample_total_mb_end": round((at_end["sample_heap"] + at_end["sample_index"]) / 2**20),
        "ingest_lag_p50_ms": quantile([x * 1000 for x in lags], 0.5),
        "ingest_lag_p99_ms": quantile([x * 1000 for x in lags], 0.99),
        "ingest_lag_max_ms": quantile([x * 1000 for x in lags], 1.0),
        "load_avg_1m_end": round(os.getloadavg()[0], 2),
    }


if __name__ == "__main__":
    main()
