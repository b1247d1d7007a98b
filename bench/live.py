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
import base64
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

from common import ROOT, free_port, recreate_database, start_mosquitto

sys.path.insert(0, str(ROOT / "src"))


#: values within what the ingest's validation accepts (a temperature of 400-900 was a
#: dead letter: the e2e run counted it as sent, and the ingest wrote a refusal for it)
PLAUSIBLE = {
    "co2": (400, 900),
    "temperature": (15, 30),
    "humidity": (30, 70),
    "pressure": (950, 1050),
}


def ms(ts: str) -> int:
    """Epoch milliseconds of an ISO timestamp (samples are whole milliseconds)."""
    return round(datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp() * 1000)


def nodes_of_client(index: int, per_client: int, nodes: list[int], hot: int = 0) -> list[int]:
    """``per_client`` ordinary nodes of its own, and one of the ``hot`` (fast) ones."""
    ordinary = nodes[hot:]
    mine = [ordinary[(index * per_client + k) % len(ordinary)] for k in range(per_client)]
    return mine + ([nodes[index % hot]] if hot else [])


# -- the client process ---------------------------------------------------------------


class RawClient(asyncio.Protocol):
    """``--light-clients``: a WebSocket client in a few lines of asyncio, without the
    ``websockets`` library's per-message machinery (a future and a task wake-up per
    frame): on two cores the clients share the CPU with the server they measure, so the
    cheaper they are the less they delay it. Handshake, masked text frames out,
    unmasked text frames in; no pings (browsers send none), no extensions."""

    def __init__(self, on_frame) -> None:
        self.on_frame = on_frame  # (payload bytes, receipt epoch s)
        self.buffer = b""
        self.upgraded = asyncio.get_running_loop().create_future()
        self.closed = asyncio.get_running_loop().create_future()
        self.close_code: int | None = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def handshake(self, host: str, path: str, origin: str, cookie: str | None = None) -> None:
        key = base64.b64encode(os.urandom(16)).decode()
        signed_in = f"Cookie: {cookie}\r\n" if cookie else ""
        self.transport.write(
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            f"Sec-WebSocket-Version: 13\r\nOrigin: {origin}\r\n{signed_in}\r\n".encode()
        )

    def send_text(self, text: str) -> None:
        payload, mask = text.encode(), os.urandom(4)
        size = len(payload)
        header = (
            bytes((0x81, 0x80 | size)) if size < 126 else bytes((0x81, 0xFE)) + size.to_bytes(2)
        )
        masked = (
            int.from_bytes(payload) ^ int.from_bytes((mask * (size // 4 + 1))[:size])
        ).to_bytes(size)
        self.transport.write(header + mask + masked)

    def data_received(self, data: bytes) -> None:
        now = time.time()
        buffer = self.buffer + data
        if not self.upgraded.done():
            head, found, buffer = buffer.partition(b"\r\n\r\n")
            if not found:
                self.buffer = head
                return
            if not head.startswith(b"HTTP/1.1 101"):
                self.upgraded.set_exception(ConnectionError(head.split(b"\r\n")[0].decode()))
                self.transport.close()
                return
            self.upgraded.set_result(None)
        start, end = 0, len(buffer)
        while end - start >= 2:
            opcode, size = buffer[start] & 0x0F, buffer[start + 1] & 0x7F
            at = start + 2
            if size == 126:
                if end - at < 2:
                    break
                size, at = int.from_bytes(buffer[at : at + 2]), at + 2
            elif size == 127:
                if end - at < 8:
                    break
                size, at = int.from_bytes(buffer[at : at + 8]), at + 8
            if end - at < size:
                break
            payload = buffer[at : at + size]
            start = at + size
            if opcode == 1:
                self.on_frame(payload, now)
            elif opcode == 8:  # close
                self.close_code = int.from_bytes(payload[:2]) if len(payload) >= 2 else 1005
                self.transport.close()
            elif opcode == 9:  # ping: pong (the server's keepalive)
                mask = os.urandom(4)
                pong = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
                self.transport.write(bytes((0x8A, 0x80 | len(payload))) + mask + pong)
        self.buffer = buffer[start:]

    def connection_lost(self, exc) -> None:
        if not self.upgraded.done():
            self.upgraded.set_exception(exc or ConnectionError("closed"))
        if not self.closed.done():
            self.closed.set_result(self.close_code)


async def light_session(args, nodes, index: int, opened: asyncio.Event, go: asyncio.Event, note):
    """One ``RawClient`` following its nodes; ``note(node, ts, at)`` per delta after ``go``.
    Returns the close code the server sent (None if the bench ended the connection)."""
    loop = asyncio.get_running_loop()
    mine = nodes_of_client(index, args.per_client, nodes, args.hot_nodes)
    answered = 0
    setup = asyncio.Event()

    def on_frame(payload: bytes, at: float) -> None:
        nonlocal answered
        frame = json.loads(payload)
        kind = frame["type"]
        if kind == "delta":
            if go.is_set():
                note(frame["node"], frame["ts"], at)
        elif kind in ("subscribed", "snapshot") and not setup.is_set():
            answered += 1
            if answered >= 2 * len(mine):
                setup.set()

    transport, client = await loop.create_connection(
        lambda: RawClient(on_frame), "127.0.0.1", args.port
    )
    try:
        client.handshake(
            f"127.0.0.1:{args.port}",
            "/ws/live/",
            f"http://127.0.0.1:{args.port}",
            args.cookies[index] if args.cookies else None,
        )
        await client.upgraded
        for node in mine:
            client.send_text(json.dumps({"subscribe": {"node": node}}))
        await setup.wait()
        opened.set()
        return await client.closed
    finally:
        transport.close()


async def websocket_clients(args, nodes: list[int]) -> dict:
    """Clients ``--first`` … ``--first + --clients - 1`` (one of several such processes)."""
    import websockets

    receipts: list[tuple[int, str, float]] = []  # node, sample ts, received (epoch s)
    closed_slow = 0
    ready = 0
    failed: list[str] = []
    go = asyncio.Event()
    opening = asyncio.Semaphore(20)  # handshakes and subscriptions at once, per process

    async def client(index: int) -> None:
        opened = asyncio.Event()
        async with opening:
            task = asyncio.create_task(session(index, opened))
            await asyncio.wait(
                [task, asyncio.create_task(opened.wait())], return_when="FIRST_COMPLETED"
            )
        try:
            await task
        except asyncio.CancelledError:
            pass
        except Exception as exc:
            failed.append(repr(exc))

    def note(node: int, ts: str, at: float) -> None:
        receipts.append((node, ts, at))

    async def session(index: int, opened: asyncio.Event) -> None:
        nonlocal closed_slow, ready
        if args.light_clients:
            light_opened = asyncio.Event()
            waiting = asyncio.create_task(light_session(args, nodes, index, light_opened, go, note))
            await asyncio.wait(
                [waiting, asyncio.create_task(light_opened.wait())], return_when="FIRST_COMPLETED"
            )
            if light_opened.is_set():
                ready += 1
                opened.set()
            code = await waiting
            closed_slow += code == 4001
            return
        url = f"ws://127.0.0.1:{args.port}/ws/live/"
        async with websockets.connect(
            url,
            open_timeout=None,
            origin=f"http://127.0.0.1:{args.port}",
            max_queue=None,
            compression=None,
            ping_interval=None,  # browsers send no pings
        ) as ws:
            mine = nodes_of_client(index, args.per_client, nodes, args.hot_nodes)
            for node in mine:
                await ws.send(json.dumps({"subscribe": {"node": node}}))
            answered = 0
            while answered < 2 * len(mine):  # subscribed + snapshot each
                frame = json.loads(await ws.recv())
                answered += frame["type"] in ("subscribed", "snapshot")
            ready += 1
            opened.set()
            await go.wait()
            loads, clock, append = json.loads, time.time, receipts.append
            try:
                async for raw in ws:
                    now = clock()
                    frame = loads(raw)
                    if frame["type"] == "delta":
                        append((frame["node"], frame["ts"], now))
            except websockets.ConnectionClosed as exc:
                closed_slow += exc.rcvd is not None and exc.rcvd.code == 4001

    tasks = [asyncio.create_task(client(i)) for i in range(args.first, args.first + args.clients)]
    while ready + len(failed) < args.clients:
        await asyncio.sleep(0.05)
    go.set()
    print("ready", flush=True)
    cpu = time.process_time()
    await asyncio.to_thread(sys.stdin.readline)  # the parent says stop
    cpu = time.process_time() - cpu
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "receipts": [(n, ms(ts), at) for n, ts, at in receipts],
        "connected": ready,
        "closed_slow": closed_slow,
        "failed": len(failed),
        "failures": sorted(set(failed))[:3],
        "cpu_s": cpu,
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
    args.cookies = json.loads(Path(args.cookies_file).read_text()) if args.cookies_file else []
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


def sign_in(count: int) -> list[str]:
    """``count`` members of the bench organization, each signed in: their session
    cookies (``--signed-in``: one viewer per WebSocket client, as after a restart of a
    web process that served many people, not one anonymous public)."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.hashers import make_password

    from sensorgrid.tenancy.models import Membership, Organization, Role, User

    org = Organization.objects.get(slug="bench")
    unusable = make_password(None)  # no hashing per user: they never type a password
    users = User.objects.bulk_create(
        User(username=f"viewer-{i:05d}", password=unusable) for i in range(count)
    )
    users = list(User.objects.filter(username__startswith="viewer-").order_by("username"))
    Membership.objects.bulk_create(
        Membership(user=user, organization=org, role=Role.INSPECTOR) for user in users
    )
    store = import_module(settings.SESSION_ENGINE).SessionStore
    cookies = []
    for user in users:
        session = store()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        cookies.append(f"{settings.SESSION_COOKIE_NAME}={session.session_key}")
    return cookies


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
        # One more consumer of each committed batch, the commit's clock: the first to run
        # after the commit, before the live publisher's. (Last, as it was until
        # 2026-12-07, it ran after the status page's upsert, the alert rules and the
        # SensorThings feed, and after the publisher thread had taken the interpreter:
        # every latency was short by their time, a quick frame's below zero.)
        consumers = {key: list(v) for key, v in settings.AFTER_COMMIT_CONSUMERS.items()}
        committed = consumers["sensorgrid.ingest.events.Committed"]
        first = next(k for k, (_, phase) in enumerate(committed) if phase == "after-ack")
        committed.insert(first, (self._committed, "after-ack"))
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

    def deliver(self, messages: list[dict], now: datetime) -> None:
        from sensorgrid.ingest import pipeline
        from sensorgrid.ingest.envelope import Envelope

        envelope = Envelope(
            source="mqtt",
            topic="bench",
            payload=json.dumps(messages).encode(),
            received_at=now,
            content_type="application/json",
        )
        self.samples += pipeline.ingest_many([envelope], "json").inserted

    def run(self, seconds: float, tick: float = 0.05) -> None:
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
                values = {k: random.randint(*PLAUSIBLE[k]) for k in self.keys}
                messages.append({"device": device, "ts": now.isoformat(), "values": values})
            started_tick = time.perf_counter()
            self.deliver(messages, now)
            self.tick_seconds.append(time.perf_counter() - started_tick)


class MqttLoad(Committer):
    """``--e2e``: publishes ``rate`` samples a second over MQTT (QoS 1) to a real
    ``sensorgrid ingest``; a sample's ts is its publish time, so "committed" here is the
    device's publish and the latency runs device publish → browser frame (the ingest
    batch window, the commit and the publisher of another process included)."""

    def __init__(self, nodes, rate, values, hot, hot_share, port: int) -> None:
        from sensorgrid.mqtt import Broker, make_client

        self.nodes = nodes
        self.hot = hot
        self.hot_share = hot_share
        self.keys = ["co2", "temperature", "humidity", "pressure"][:values]
        self.messages_per_second = rate / values
        self.committed = {}
        self.samples = 0
        self.lag = 0.0
        self.tick_seconds = []
        self.publish_cycles = []
        self.node_of = {device: pk for pk, device in nodes}
        self.client = make_client(Broker("127.0.0.1", port), name="bench", client_id="bench-live")
        self.client.max_inflight_messages_set(0)
        self.client.start(keepalive=60, wait=True)

    def deliver(self, messages: list[dict], now: datetime) -> None:
        published = now.timestamp()
        for message in messages:
            device = message.pop("device")
            self.client.publish(f"sensorgrid/{device}/up", json.dumps(message), qos=1)
            self.committed[(self.node_of[device], round(published * 1000))] = published
        self.samples += len(messages) * len(self.keys)


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


class ProcessWatch:
    """Samples a process's RSS every second (max kept) and its CPU seconds, from /proc."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.max_rss_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def cpu_s(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            try:
                self.max_rss_mb = max(self.max_rss_mb, self.rss_mb())
            except OSError:
                return

    def stop(self) -> None:
        self._stop.set()


def phase(role, args, env, nodes, token, committer, work, clients: int, server) -> dict:
    procs = max(1, min(args.client_procs, clients)) if role == "ws" else 1
    share = -(-clients // procs)
    children = []
    spawned = time.monotonic()
    for k in range(procs):
        first, count = k * share, min(share, clients - k * share)
        if count <= 0:
            break
        out = work / f"{role}-{clients}-{k}.json"
        command = [
            sys.executable,
            __file__,
            "--role",
            role,
            "--port",
            str(args.port),
            "--first",
            str(first),
            "--clients",
            str(count),
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
            *(["--light-clients"] if args.light_clients else []),
            *(["--cookies-file", args.cookies_file] if args.cookies_file else []),
        ]
        process = subprocess.Popen(command, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        children.append((process, out))
    for process, _ in children:
        assert process.stdout.readline().strip() == b"ready", "clients did not start"
    # every client connected and subscribed (a reconnect storm: handshakes, subscriptions
    # and their snapshots, on the server's one database thread); process start included
    ready_s = time.monotonic() - spawned
    committer.committed.clear()
    committer.tick_seconds.clear()
    committer.publish_cycles.clear()
    before = committer.samples
    server_cpu = server.cpu_s()
    load = os.getloadavg()[0]
    print(f"measuring {role} {clients}", file=sys.stderr, flush=True)
    committer.run(args.seconds)
    server_cpu = server.cpu_s() - server_cpu
    load = max(load, os.getloadavg()[0])
    time.sleep(1)  # the last deltas (and the next polls) arrive
    for process, _ in children:
        process.stdin.write(b"stop\n")
        process.stdin.flush()
    results = []
    for process, out in children:
        process.wait(timeout=120)
        results.append(json.loads(out.read_text()))
    receipts = [r for result in results for r in result.pop("receipts")]
    ids = [pk for pk, _ in nodes]
    hot = set(ids[: args.hot_nodes])
    found, hot_found = latencies(receipts, committer.committed, hot)
    ticks = sorted(t * 1000 for t in committer.tick_seconds)
    cycles = sorted(t * 1000 for _, t in committer.publish_cycles)
    extra: dict = {}
    for result in results:
        for key, value in result.items():
            if isinstance(value, (int, float)):
                extra[key] = extra.get(key, 0) + value
            elif isinstance(value, list):
                extra[key] = (extra.get(key, []) + value)[:3]
    if role == "ws":
        extra["client_processes"] = len(results)
        extra["client_cpu_pct_max"] = round(
            max(r["cpu_s"] for r in results) / args.seconds * 100, 1
        )
        extra.pop("cpu_s", None)
    return {
        "samples": committer.samples - before,
        "received": len(receipts),
        "matched": len(found),
        "clients_ready_s": round(ready_s, 1),
        "min_ms": quantile(found, 0.0),  # below 0: the commit clock runs late
        "p50_ms": quantile(found, 0.5),
        "p99_ms": quantile(found, 0.99),
        "max_ms": quantile(found, 1.0),
        "mean_ms": round(statistics.fmean(found), 1) if found else None,
        "hot_received": len(hot_found),
        "hot_p50_ms": quantile(hot_found, 0.5),
        "hot_p99_ms": quantile(hot_found, 0.99),
        "extra": extra,
        "server_cpu_pct": round(server_cpu / args.seconds * 100, 1),
        "server_cpu_us_per_frame": round(server_cpu / len(receipts) * 1e6, 1) if receipts else None,
        "load_avg_1m_max": round(load, 2),
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
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument(
        "--baseline-clients", type=int, default=200, help="the same run's baseline (0: none)"
    )
    parser.add_argument(
        "--client-procs", type=int, default=4, help="processes holding the WebSocket clients"
    )
    parser.add_argument("--per-client", type=int, default=5, help="nodes per client")
    parser.add_argument("--hot-nodes", type=int, default=10, help="fast nodes, 1 per client")
    parser.add_argument("--hot-share", type=float, default=0.05, help="their share of messages")
    parser.add_argument("--poll-clients", type=int, default=20)
    parser.add_argument("--poll-interval", type=float, default=1.0)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument(
        "--e2e",
        action="store_true",
        help="publish over MQTT through a real `sensorgrid ingest` (device publish → frame)",
    )
    parser.add_argument(
        "--light-clients",
        action="store_true",
        help="a minimal asyncio WebSocket client instead of the websockets library "
        "(cheaper per frame: the clients share the two cores with the server)",
    )
    parser.add_argument(
        "--signed-in",
        action="store_true",
        help="each WebSocket client signs in as a member of its own (with --light-clients); "
        "default: anonymous clients of public nodes",
    )
    parser.add_argument(
        "--ingest-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="with --e2e: environment of the ingest process (e.g. SENSORGRID_MQTT_BATCH_MS=50)",
    )
    # for the client processes
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--first", type=int, default=0, help="index of the first client")
    parser.add_argument("--nodes-json", dest="nodes", default="[]")
    parser.add_argument("--token", default="")
    parser.add_argument("--cookies-file", default="", help="session cookies, one per client")
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
    if args.signed_in:
        if not args.light_clients:
            parser.error("--signed-in needs --light-clients")
        args.cookies_file = str(work / "cookies.json")
        Path(args.cookies_file).write_text(
            json.dumps(sign_in(max(args.clients, args.baseline_clients)))
        )
    server = subprocess.Popen(
        [sys.executable, "-m", "sensorgrid", "serve", "--port", str(args.port)],
        env=env,
        stdout=(work / "serve.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    broker = ingest = None
    if args.e2e:
        broker, broker_port = start_mosquitto(work / "mosquitto")
        ingest = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sensorgrid",
                "ingest",
                "--broker",
                f"mqtt://127.0.0.1:{broker_port}",
            ],
            env={
                **env,
                "SENSORGRID_MQTT_ROUTES": "sensorgrid/{device}/up=json",
                **dict(pair.split("=", 1) for pair in args.ingest_env),
            },
            stdout=(work / "ingest.log").open("w"),
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120  # a loaded machine starts slowly
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{args.port}/healthz", timeout=1)
                break
            except OSError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.1)
        if args.e2e:
            committer = MqttLoad(
                nodes, args.rate, args.values, args.hot_nodes, args.hot_share, broker_port
            )
        else:
            committer = Committer(nodes, args.rate, args.values, args.hot_nodes, args.hot_share)
        if args.e2e:  # the ingest process is up and writing before anything is measured
            from sensorgrid.telemetry.models import Latest

            deadline = time.monotonic() + 120
            while not Latest.objects.exists():
                assert time.monotonic() < deadline, "the ingest process wrote nothing"
                now = datetime.now(UTC).replace(microsecond=0)
                device = nodes[-1][1]
                committer.deliver(
                    [{"device": device, "ts": now.isoformat(), "values": {"co2": 1}}], now
                )
                time.sleep(0.5)
        committer.run(1)  # warm up: caches, connections
        watch = ProcessWatch(server.pid)

        def websockets(clients: int) -> dict:
            publish_coalesced = metrics.PUBLISH_COALESCED._value.get()
            coalesced = server_metric(args.port, "sensorgrid_live_coalesced_total")
            dropped = server_metric(args.port, "sensorgrid_live_dropped_clients_total")
            committer.lag = 0.0
            watch.max_rss_mb = 0.0
            ws = phase("ws", args, env, nodes, token, committer, work, clients, watch)
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
            ws["server_rss_mb_max"] = round(watch.max_rss_mb, 1)
            return {"clients": clients, **ws}

        baseline = websockets(args.baseline_clients) if args.baseline_clients else None
        ws = websockets(args.clients)
        committer.lag = 0.0
        poll = None
        if args.poll_clients:
            poll = phase("poll", args, env, nodes, token, committer, work, args.poll_clients, watch)
            poll["commit_tick_max_lag_ms"] = round(committer.lag * 1000, 1)
        watch.stop()
    finally:
        for process in (server, ingest, broker):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)
    target = 400 if args.e2e else 100
    print(
        json.dumps(
            {
                "bench": "live",
                "mode": "end to end: MQTT publish → ingest → frame"
                if args.e2e
                else "commit → frame",
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
                "nodes_per_client": args.per_client + (1 if args.hot_nodes else 0),
                "client": "light (asyncio protocol)" if args.light_clients else "websockets",
                "viewers": "a member each (signed in)" if args.signed_in else "anonymous",
                "ingest_env": args.ingest_env if args.e2e else None,
                "websocket": ws,
                "baseline_websocket": baseline,
                "polling": poll
                and {"clients": args.poll_clients, "interval_s": args.poll_interval, **poll},
                "load_avg_1m_at_end": round(os.getloadavg()[0], 2),
                "target_p99_ms": target,
                "p99_within_target": ws["p99_ms"] is not None and ws["p99_ms"] <= target,
            }
        )
    )


if __name__ == "__main__":
    main()
