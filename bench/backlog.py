"""Backlog benchmark: `sensorgrid ingest` drains a large backlog of QoS 1 messages with
bounded memory and loses nothing. Own Mosquitto, fresh database, one run.

    flock /work/notes/bench.lock .venv/bin/python bench/backlog.py \\
        [--messages 1000000] [--processes 1] [--limit-mb 150] \\
        [--database postgres://postgres@127.0.0.1:5432/sensorgrid_bench_backlog]

Each ingest process first connects once, idle, so that its persistent session exists
(its RSS while idle is the baseline); then the whole backlog is published (3 readings
per message, 1,000 nodes, QoS 1) while no consumer is connected, so the broker holds all
of it; then the ingest processes start (``--shared-group`` when more than one) and drain
it until idle. The RSS of every ingest process is read from /proc every second (and the
kernel's high-water mark, VmHWM, at the last reading: a peak between two samples is not
missed). Afterwards the stored samples are counted: messages × 3, no dead letters, and
a last idle ingest run receives nothing (the broker's queue is empty). Prints one JSON
line; ``ok`` is false when a limit was broken or anything was lost.
"""

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import recreate_database, rss_mb, setup_django, start_mosquitto

NODES = 1000
KEYS = ("co2", "temperature", "humidity")


def fixtures() -> list[str]:
    from sensorgrid.inventory.models import Node
    from sensorgrid.telemetry import partitions
    from sensorgrid.tenancy.models import Organization

    org = Organization.objects.create(name="Bench", slug="bench")
    devices = [f"bench-{i:04d}" for i in range(NODES)]
    Node.objects.bulk_create(Node(organization=org, device_id=d) for d in devices)
    partitions.ensure()
    return devices


def publish_slice(port: int, devices: list[str], count: int, start: datetime, k: int, of: int):
    """Messages k, k + of, k + 2 × of, ... of the backlog; exits 1 if any was not acked."""
    from tests.support.publisher import publish

    from sensorgrid.mqtt import Broker

    def messages():
        for n in range(k, count, of):
            ts = start + timedelta(seconds=n // NODES)
            body = {
                "ts": ts.isoformat(),
                "values": {key: 20 + (n + i) % 50 for i, key in enumerate(KEYS)},
            }
            yield f"sensorgrid/{devices[n % NODES]}/up", json.dumps(body)

    expected = len(range(k, count, of))
    published = publish(Broker("127.0.0.1", port), messages(), window=10_000, timeout=120)
    sys.exit(0 if published == expected else 1)


def publish_backlog(
    port: int, devices: list[str], count: int, start: datetime, publishers: int
) -> float:
    """Publish ``count`` QoS 1 messages from ``publishers`` processes; messages/s."""
    from django.db import connections

    connections.close_all()  # the children must not share the parent's connection
    context = multiprocessing.get_context("fork")
    processes = [
        context.Process(target=publish_slice, args=(port, devices, count, start, k, publishers))
        for k in range(publishers)
    ]
    began = time.perf_counter()
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    if any(process.exitcode != 0 for process in processes):
        raise RuntimeError("a publisher did not get every message acknowledged")
    return count / (time.perf_counter() - began)


class Sampler(threading.Thread):
    """Every ``interval`` seconds, the RSS of each process until all have exited."""

    def __init__(self, processes: list[subprocess.Popen], interval: float = 1.0) -> None:
        super().__init__(daemon=True)
        self.processes = processes
        self.interval = interval
        self.samples: list[list[float]] = [[] for _ in processes]
        self.hwm = [0.0 for _ in processes]

    def run(self) -> None:
        while any(p.poll() is None for p in self.processes):
            for i, process in enumerate(self.processes):
                reading = rss_mb(process.pid)
                if reading is not None:
                    self.samples[i].append(reading[0])
                    self.hwm[i] = max(self.hwm[i], reading[1])
            time.sleep(self.interval)


def run_sampled(commands: list[list[str]], env: dict, interval: float) -> tuple[Sampler, float]:
    processes = [
        subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for command in commands
    ]
    began = time.perf_counter()
    sampler = Sampler(processes, interval)
    sampler.start()
    for process in processes:
        _, err = process.communicate(timeout=3600)
        if process.returncode != 0:
            raise RuntimeError(f"ingest failed ({process.returncode}): {err.decode()[-2000:]}")
    elapsed = time.perf_counter() - began
    sampler.join()
    return sampler, elapsed


def counts() -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), count(DISTINCT (node_id, ts)) FROM telemetry_sample")
        samples, messages = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM telemetry_deadletter")
        (dead,) = cursor.fetchone()
    return {"samples": samples, "messages": messages, "dead_letters": dead}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--database", default="postgres://postgres@127.0.0.1:5432/sensorgrid_bench_backlog"
    )
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--processes", type=int, default=1, help="ingest processes")
    parser.add_argument("--limit-mb", type=float, default=150, help="RSS limit per process")
    parser.add_argument("--interval", type=float, default=1.0, help="RSS sampling, seconds")
    parser.add_argument("--publishers", type=int, default=2, help="publishing processes")
    parser.add_argument("--idle-exit", type=float, default=5, help="ingest's --idle-exit")
    args = parser.parse_args()
    recreate_database(args.database)
    setup_django(args.database)
    devices = fixtures()
    work = Path(tempfile.mkdtemp(prefix="sg-bench-backlog-"))
    broker, port = start_mosquitto(work / "mosquitto")
    env = {
        **os.environ,
        "SENSORGRID_DATABASE_URL": args.database,
        "SENSORGRID_MQTT_ROUTES": "sensorgrid/{device}/up=json",
        "SENSORGRID_LOG_LEVEL": "WARNING",
    }
    base = [sys.executable, "-m", "sensorgrid", "ingest", "--broker", f"mqtt://127.0.0.1:{port}"]
    shared = ["--shared-group", "backlog"] if args.processes > 1 else []
    commands = [
        [*base, "--client-id", f"backlog-{i}", *shared, "--idle-exit", str(args.idle_exit)]
        for i in range(args.processes)
    ]
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
    try:
        # idle: the sessions exist before the backlog, and the baseline RSS
        idle, idle_s = run_sampled(commands, env, 0.25)
        startup_s = idle_s - args.idle_exit  # Django, connect, subscribe
        published_at = time.perf_counter()
        publish_rate = publish_backlog(port, devices, args.messages, start, args.publishers)
        published_s = time.perf_counter() - published_at
        drained, drain_s = run_sampled(commands, env, args.interval)
        # the last message came idle-exit seconds before the exit; start-up is not draining
        drain_s -= args.idle_exit + startup_s
        drained_count = counts()
        run_sampled(commands, env, 0.25)  # a last idle run: was anything left at the broker?
        broker_rss = rss_mb(broker.pid)
    finally:
        broker.terminate()
        broker.wait(timeout=30)
    stored = counts()
    peak = [max(max(s, default=0), h) for s, h in zip(drained.samples, drained.hwm, strict=True)]
    complete = (
        stored["samples"] == args.messages * len(KEYS)
        and stored["messages"] == args.messages
        and stored["dead_letters"] == 0
    )
    result = {
        "bench": "backlog",
        "database": "postgresql",
        "messages": args.messages,
        "readings_per_message": len(KEYS),
        "nodes": NODES,
        "processes": args.processes,
        "publish_msg_per_s": round(publish_rate),
        "publish_s": round(published_s, 1),
        "startup_s": round(startup_s, 1),
        "drain_s": round(drain_s, 1),
        "drain_msg_per_s": round(args.messages / drain_s),
        "idle_rss_mb": [round(max(s, default=0), 1) for s in idle.samples],
        "peak_rss_sampled_mb": [round(max(s, default=0), 1) for s in drained.samples],
        "peak_rss_hwm_mb": [round(h, 1) for h in drained.hwm],
        "peak_vs_idle": [
            round(p / max(max(s, default=1), 1), 2) for p, s in zip(peak, idle.samples, strict=True)
        ],
        "rss_samples": [len(s) for s in drained.samples],
        "limit_mb": args.limit_mb,
        "broker_rss_mb_after": round(broker_rss[0]) if broker_rss else None,
        "broker_rss_hwm_mb": round(broker_rss[1]) if broker_rss else None,
        **{f"stored_{k}": v for k, v in stored.items()},
        "samples_after_drain": drained_count["samples"],
        "samples_from_last_idle_run": stored["samples"] - drained_count["samples"],
        "lost": args.messages - stored["messages"],
        "ok": complete and all(p <= args.limit_mb for p in peak),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
