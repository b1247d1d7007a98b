"""Live push benchmark: commit → browser latency over /ws/live/, against polling.

    .venv/bin/python bench/live.py [--database postgres://postgres@127.0.0.1:5432/sensorgrid_bench_live]
                                   [--redis redis://127.0.0.1:6379/5]

Real services: PostgreSQL, Redis (channel layer and latest-value cache, as in
production) and `sensorgrid serve` in its own process. This process commits
``--rate`` samples a second through the ingest pipeline (its hook publishes through
Redis, like an ingester). A second process holds ``--clients`` WebSocket clients, each
subscribed to ``--per-client`` ordinary nodes (about 1 message a second each) and one of
``--hot-nodes`` fast nodes (above SENSORGRID_LIVE_MAX_RATE, so their deltas are
coalesced), and notes when each delta arrives. Latency runs from the commit (an ingest
hook's clock) to the client's receipt, on the same machine; ordinary and hot nodes are
reported apart (a hot node's delta may wait for its rate limit by design). Then, in the
same run and under the same load, the baseline: ``--poll-clients`` clients polling the
latest-values API (/api/v1/nodes/<id>/latest/) of the same nodes every
``--poll-interval`` seconds; latency from the commit to the first poll that shows the
value. Coalesced and dropped counts come from the server's /metrics. commit_* and
publish_cycle_* say how long a batch commit and a publisher cycle (cache merge + group
sends) took: when they spike, the machine is short of CPU. Prints one JSON line.
"""

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import ROOT, free_port, recreate_database

sys.path.insert(0, str(ROOT / "src"))


def ms(ts: str) -> int:
    """Epoch milliseconds of an ISO timestamp (samples are whole milliseconds)."""
    return round(datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp() * 1000)


def nodes_of_client(index: int, per_client: int, nodes: list[int], hot: int = 0) -> list[int]:
    """``per_client`` ordinary nodes of its own, and one of the ``hot`` (fast) ones."""
    ordinary = nodes[hot:]
    mine = [ordinary[(index * per_client + k) % len(ordinary)] for k in range(per_client)]
    return mine + ([nodes[index % hot]] if hot else [])


# -- the client process ---------------------------------------------------------------


async def websocket_clients(args, nodes: list[int]) -> dict:
    import websockets

    receipts: list[tuple[int, int, float]] = []  # node, sample ms, received (epoch s)
    closed_slow = 0
    ready = 0
    failed: list[str] = []
    stop = asyncio.Event()

    async def client(index: int) -> None:
        try:
            await session(index)
        except Exception as exc:
            failed.append(repr(exc))

    async def session(index: int) -> None:
        nonlocal closed_slow, ready
        url = f"ws://127.0.0.1:{args.port}/ws/live/"
        async with websockets.connect(url, origin=f"http://127.0.0.1:{args.port}") as ws:
            mine = nodes_of_client(index, args.per_client, nodes, args.hot_nodes)
            for node in mine:
                await ws.send(json.dumps({"subscribe": {"node": node}}))
            answered = 0
            while answered < 2 * len(mine):  # subscribed + snapshot each
                frame = json.loads(await ws.recv())
                answered += frame["type"] in ("subscribed", "snapshot")
            ready += 1
            try:
                while not stop.is_set():
                    try:
                        raw = await asyncio.wait_for(ws.recv(), 0.5)
                    except TimeoutError:
                        continue
                    now = time.time()
                    frame = json.loads(raw)
                    if frame["type"] == "delta":
                        receipts.append((frame["node"], ms(frame["ts"]), now))
            except websockets.ConnectionClosed as exc:
                closed_slow += exc.rcvd is not None and exc.rcvd.code == 4001

    tasks = [asyncio.create_task(client(i)) for i in range(args.clients)]
    while ready + len(failed) < args.clients:
        await asyncio.sleep(0.05)
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)  # the parent says stop
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "receipts": receipts,
        "connected": ready,
        "closed_slow": closed_slow,
        "failed": len(failed),
        "failures": sorted(set(failed))[:3],
    }


async def polling_clients(args, nodes: list[int]) -> dict:
    seen: dict[tuple[int, int], float] = {}  # (node, sample ms) → first seen
    requests = 0
    stop = threading.Event()

    def get(node: int) -> dict:
        request = urllib.request.Request(
            f"http://127.0.0.1:{args.port}/api/v1/nodes/{node}/latest/",
            headers={"Authorization": f"Token {args.token}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def poller(index: int) -> None:
        nonlocal requests
        mine = nodes_of_client(index, args.per_client, nodes, args.hot_nodes)
        time.sleep(random.random() * args.poll_interval)  # spread the clients
        while not stop.is_set():
            started = time.monotonic()
            for node in mine:
                body = get(node)
                now = time.time()
                requests += 1
                for value in body["values"]:
                    seen.setdefault((node, ms(value["ts"])), now)
            stop.wait(max(0.0, args.poll_interval - (time.monotonic() - started)))

    threads = [threading.Thread(target=poller, args=(i,)) for i in range(args.poll_clients)]
    for thread in threads:
        thread.start()
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    stop.set()
    for thread in threads:
        thread.join()
    return {"receipts": [(n, t, s) for (n, t), s in seen.items()], "requests": requests}


def client_process(args) -> None:
    nodes = json.loads(args.nodes)
    role = websocket_clients if args.role == "ws" else polling_clients
    result = asyncio.run(role(args, nodes))
    Path(args.out).write_text(json.dumps(result))


# -- the bench process ----------------------------------------------------------------


def fixtures(count: int) -> tuple[list[tuple[int, str]], str]:
    from sensorgrid.accounts.models import ApiToken
    from sensorgrid.inventory.models import Installation, Node, Room, Site
    from sensorgrid.tenancy.models import Membership, Organization, Role, User

    org = Organization.objects.create(name="Bench", slug="bench")
    user = User.objects.create_user("bench", password="bench-password")
    Membership.objects.create(user=user, organization=org, role=Role.INSPECTOR)
    room = Room.objects.create(site=Site.objects.create(organization=org, name="Site"), name="R")
    Node.objects.bulk_create(
        Node(organization=org, device_id=f"live-{i:04d}") for i in range(count)
    )
    nodes = list(Node.objects.order_by("pk").values_list("pk", "device_id"))
    start = datetime.now(UTC) - timedelta(days=1)
    Installation.objects.bulk_create(
        Installation(node_id=pk, room=room, start=start, is_public=True) for pk, _ in nodes
    )
    return nodes, ApiToken.objects.issue(user, "bench")[1]


class Committer:
    """Commits ``rate`` samples a second through the pipeline, in ticks, on this thread."""

    def __init__(
        self, nodes: list[tuple[int, str]], rate: int, values: int, hot: int, hot_share: float
    ) -> None:
        from django.conf import settings
        from django.test import override_settings

        self.nodes = nodes
        self.hot = hot
        self.hot_share = hot_share
        self.keys = ["co2", "temperature", "humidity", "pressure"][:values]
        self.messages_per_second = rate / values
        self.committed: dict[tuple[int, int], float] = {}  # (node, sample ms) → commit
        self.samples = 0
        self.lag = 0.0  # worst time a tick started late
        self.tick_seconds: list[float] = []
        self.publish_cycles: list[tuple[float, float]] = []  # (started, seconds)
        # One more consumer of each committed batch, after the configured ones.
        consumers = {key: list(v) for key, v in settings.AFTER_COMMIT_CONSUMERS.items()}
        consumers["sensorgrid.ingest.events.Committed"].append((self._committed, "after-ack"))
        override_settings(AFTER_COMMIT_CONSUMERS=consumers).enable()
        self._watch_publisher()

    def _watch_publisher(self) -> None:
        """Time each publisher cycle (cache merge + group sends): where latency goes."""
        from sensorgrid.live.publish import publisher

        publish = publisher._publish

        def timed(deltas, *rest):
            started = time.perf_counter()
            try:
                return publish(deltas, *rest)
            finally:
                self.publish_cycles.append((len(deltas), time.perf_counter() - started))

        publisher._publish = timed

    def _committed(self, report) -> None:
        now = time.time()
        for row in report.rows:
            self.committed.setdefault((row.node_id, round(row.ts.timestamp() * 1000)), now)

    def run(self, seconds: float, tick: float = 0.05) -> None:
        from sensorgrid.ingest import pipeline
        from sensorgrid.ingest.envelope import Envelope

        per_tick = max(1, round(self.messages_per_second * tick))
        hot_per_tick = round(per_tick * self.hot_share) if self.hot else 0
        ordinary = self.nodes[self.hot :]
        position = hot_position = 0
        started = time.monotonic()
        ticks = int(seconds / tick)
        for n in range(ticks):
            due = started + n * tick
            late = time.monotonic() - due
            if late < 0:
                time.sleep(-late)
            self.lag = max(self.lag, late)
            now = datetime.now(UTC)
            now = now.replace(microsecond=now.microsecond // 1000 * 1000)
            messages = []
            for k in range(per_tick):
                if k < hot_per_tick:
                    _, device = self.nodes[hot_position % self.hot]
                    hot_position += 1
                else:
                    _, device = ordinary[position % len(ordinary)]
                    position += 1
                values = {k: random.randint(400, 900) for k in self.keys}
                messages.append({"device": device, "ts": now.isoformat(), "values": values})
            envelope = Envelope(
                source="mqtt",
                topic="bench",
                payload=json.dumps(messages).encode(),
                received_at=now,
                content_type="application/json",
            )
            started_tick = time.perf_counter()
            self.samples += pipeline.ingest_many([envelope], "json").inserted
            self.tick_seconds.append(time.perf_counter() - started_tick)


def latencies(receipts, committed, hot: set[int] = frozenset()) -> tuple[list, list]:
    """Commit → receipt in ms, of the ordinary nodes and of the hot (rate-limited) ones."""
    found, hot_found = [], []
    for node, sample_ms, received in receipts:
        at = committed.get((node, sample_ms))
        if at is not None:
            (hot_found if node in hot else found).append((received - at) * 1000)
    return sorted(found), sorted(hot_found)


def quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    return round(values[min(len(values) - 1, int(q * len(values)))], 1)


def server_metric(port: int, name: str) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(name) and not line.startswith("#")
    )


def phase(role, args, env, nodes, token, committer, work) -> dict:
    out = work / f"{role}.json"
    command = [
        sys.executable,
        __file__,
        "--role",
        role,
        "--port",
        str(args.port),
        "--clients",
        str(args.clients),
        "--poll-clients",
        str(args.poll_clients),
        "--poll-interval",
        str(args.poll_interval),
        "--per-client",
        str(args.per_client),
        "--hot-nodes",
        str(args.hot_nodes),
        "--nodes-json",
        json.dumps([pk for pk, _ in nodes]),
        "--token",
        token,
        "--out",
        str(out),
    ]
    clients = subprocess.Popen(command, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert clients.stdout.readline().strip() == b"ready", "clients did not start"
    committer.committed.clear()
    committer.tick_seconds.clear()
    committer.publish_cycles.clear()
    before = committer.samples
    committer.run(args.seconds)
    time.sleep(1)  # the last deltas (and the next polls) arrive
    clients.stdin.write(b"stop\n")
    clients.stdin.flush()
    clients.wait(timeout=120)
    result = json.loads(out.read_text())
    ids = [pk for pk, _ in nodes]
    hot = set(ids[: args.hot_nodes])
    found, hot_found = latencies(result["receipts"], committer.committed, hot)
    ticks = sorted(t * 1000 for t in committer.tick_seconds)
    cycles = sorted(t * 1000 for _, t in committer.publish_cycles)
    return {
        "samples": committer.samples - before,
        "received": len(result["receipts"]),
        "matched": len(found),
        "p50_ms": quantile(found, 0.5),
        "p99_ms": quantile(found, 0.99),
        "max_ms": quantile(found, 1.0),
        "mean_ms": round(statistics.fmean(found), 1) if found else None,
        "hot_received": len(hot_found),
        "hot_p50_ms": quantile(hot_found, 0.5),
        "hot_p99_ms": quantile(hot_found, 0.99),
        "extra": {k: v for k, v in result.items() if k != "receipts"},
        "commit_ms_p50": quantile(ticks, 0.5),
        "commit_ms_p99": quantile(ticks, 0.99),
        "publish_cycles": len(cycles),
        "publish_cycle_ms_p50": quantile(cycles, 0.5),
        "publish_cycle_ms_p99": quantile(cycles, 0.99),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--role", default="bench", choices=["bench", "ws", "poll"])
    parser.add_argument(
        "--database", default="postgres://postgres@127.0.0.1:5432/sensorgrid_bench_live"
    )
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/5")
    parser.add_argument("--rate", type=int, default=2000, help="samples committed a second")
    parser.add_argument("--values", type=int, default=2, help="values per message (1-4)")
    parser.add_argument("--node-count", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--per-client", type=int, default=5, help="nodes per client")
    parser.add_argument("--hot-nodes", type=int, default=10, help="fast nodes, 1 per client")
    parser.add_argument("--hot-share", type=float, default=0.05, help="their share of messages")
    parser.add_argument("--poll-clients", type=int, default=20)
    parser.add_argument("--poll-interval", type=float, default=1.0)
    parser.add_argument("--seconds", type=float, default=20)
    # for the client processes
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--nodes-json", dest="nodes", default="[]")
    parser.add_argument("--token", default="")
    parser.add_argument("--out", default="")
    args = parser.parse_args()
    if args.role != "bench":
        client_process(args)
        return

    import redis

    recreate_database(args.database)
    redis.Redis.from_url(args.redis).flushdb()
    os.environ["SENSORGRID_REDIS_URL"] = args.redis
    os.environ["SENSORGRID_LOG_LEVEL"] = "WARNING"
    from common import setup_django

    setup_django(args.database)
    from sensorgrid.live import metrics

    nodes, token = fixtures(args.node_count)
    args.port = free_port()
    env = {
        **os.environ,
        "SENSORGRID_DATABASE_URL": args.database,
        "SENSORGRID_REDIS_URL": args.redis,
        "SENSORGRID_LOG_LEVEL": "WARNING",
    }
    work = Path(os.environ.get("TMPDIR", "/tmp")) / f"sg-bench-live-{os.getpid()}"
    work.mkdir(parents=True, exist_ok=True)
    server = subprocess.Popen(
        [sys.executable, "-m", "sensorgrid", "serve", "--port", str(args.port)],
        env=env,
        stdout=(work / "serve.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{args.port}/healthz", timeout=1)
                break
            except OSError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.1)
        committer = Committer(nodes, args.rate, args.values, args.hot_nodes, args.hot_share)
        committer.run(1)  # warm up: caches, connections
        publish_coalesced = metrics.PUBLISH_COALESCED._value.get()
        coalesced = server_metric(args.port, "sensorgrid_live_coalesced_total")
        dropped = server_metric(args.port, "sensorgrid_live_dropped_clients_total")
        ws = phase("ws", args, env, nodes, token, committer, work)
        ws["coalesced_in_clients"] = int(
            server_metric(args.port, "sensorgrid_live_coalesced_total") - coalesced
        )
        ws["coalesced_in_publisher"] = int(
            metrics.PUBLISH_COALESCED._value.get() - publish_coalesced
        )
        ws["dropped_clients"] = int(
            server_metric(args.port, "sensorgrid_live_dropped_clients_total") - dropped
        )
        ws["commit_tick_max_lag_ms"] = round(committer.lag * 1000, 1)
        committer.lag = 0.0
        poll = phase("poll", args, env, nodes, token, committer, work)
        poll["commit_tick_max_lag_ms"] = round(committer.lag * 1000, 1)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(
        json.dumps(
            {
                "bench": "live",
                "database": "postgresql",
                "channel_layer": "redis",
                "samples_per_s": args.rate,
                "values_per_message": args.values,
                "nodes": args.node_count,
                "seconds": args.seconds,
                "hot_nodes": args.hot_nodes,
                "hot_msgs_per_node_s": round(
                    args.rate / args.values * args.hot_share / args.hot_nodes, 1
                )
                if args.hot_nodes
                else 0,
                "max_rate_per_node_s": 4,
                "websocket": {
                    "clients": args.clients,
                    "nodes_per_client": args.per_client + (1 if args.hot_nodes else 0),
                    **ws,
                },
                "polling": {
                    "clients": args.poll_clients,
                    "nodes_per_client": args.per_client + (1 if args.hot_nodes else 0),
                    "interval_s": args.poll_interval,
                    **poll,
                },
                "target_p99_ms": 100,
                "p99_within_target": ws["p99_ms"] is not None and ws["p99_ms"] <= 100,
            }
        )
    )


if __name__ == "__main__":
    main()
