"""MQTT ingest beside the batched reference collector: one run, one broker, one workload.

    .venv/bin/python bench/mqtt_vs_reference.py [--messages 60000] [--reference DIR]

Quote runs of 150,000 messages or more: each process decodes and checks its first batch
before the first row is stored, where the timed window starts, so with few batches per
process that work falls outside it (30,000 messages over two processes: a third).

Issue 24, target 1: ``sensorgrid ingest`` (one process, and two on a shared
subscription) against ``batched_collector.py --ack-after-commit --idempotent`` of
``../shared/bench`` (paho → queue → writer thread, orjson, COPY + ON CONFLICT DO
NOTHING, PUBACK after commit: the same guarantees, none of the features). Same
throwaway Mosquitto on a free port, same PostgreSQL, a fresh database for every
consumer (SensorGrid's is cloned from a migrated template with 1,000 nodes).

Workload: the reference's own (``benchlib.make_messages``: 1,000 nodes, 3 readings —
co2 int, temperature and humidity floats — and a microsecond ISO timestamp per
message); SensorGrid gets the same values in its JSON format on
``sensorgrid/<device>/up`` (``{"ts", "values": {...}}``, 12 bytes longer).

Each consumer drains a backlog of QoS 1 messages from a persistent session (filled
while it is away, not timed), acknowledging after commit. The clock and the CPU
window run from the first stored sample to the last (polled with count(*) every
20 ms, alike for every consumer), so start-up is not counted. CPU per process group
from /proc/<pid>/stat (utime + stime) at both ends of the window: the consumer
processes, the PostgreSQL backends connected to the consumer's database (the
poller's own excluded), and the broker. Prints one JSON line.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import ROOT, TICK, descendants, recreate_database, setup_django, start_mosquitto, ticks

NODES = 1000


class Window:
    """CPU ticks of the process groups between two moments."""

    def __init__(self, groups: dict[str, list[int]]):
        self.start = {g: {p: ticks(p) for p in pids} for g, pids in groups.items()}

    def stop(self, groups: dict[str, list[int]]) -> dict[str, float]:
        used = {}
        for group, pids in groups.items():
            before = self.start.get(group, {})
            # a backend born inside the window counts from zero
            used[group] = sum(ticks(p) - before.get(p, 0) for p in pids) / TICK
        return used


def drain(
    commands: list[list[str]],
    env: dict,
    dsn: str,
    table: str,
    target: int,
    broker_pid: int,
    timeout: float = 600,
) -> dict:
    """Start the consumers; rate and CPU from the first stored row to the last."""
    import psycopg

    database = dsn.rsplit("/", 1)[1]
    poll = psycopg.connect(dsn, autocommit=True)
    own = poll.execute("SELECT pg_backend_pid()").fetchone()[0]
    count_sql = f"SELECT count(*) FROM {table}"

    def backends() -> list[int]:
        rows = poll.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> %s", (database, own)
        ).fetchall()
        return [pid for (pid,) in rows]

    logs = [tempfile.TemporaryFile(mode="w+") for _ in commands]  # noqa: SIM115 (closed below)
    processes = [
        subprocess.Popen(c, env=env, stdout=subprocess.DEVNULL, stderr=log, text=True)
        for c, log in zip(commands, logs, strict=True)
    ]

    def groups() -> dict[str, list[int]]:
        consumers = [p.pid for p in processes]
        consumers += [c for p in processes for c in descendants(p.pid)]
        return {"consumer": consumers, "postgres": backends(), "broker": [broker_pid]}

    try:
        deadline = time.monotonic() + timeout
        first_at = window = None
        first_count = 0
        while time.monotonic() < deadline:
            stored = poll.execute(count_sql).fetchone()[0]
            if first_at is None and stored > 0:
                first_at, first_count, window = time.perf_counter(), stored, Window(groups())
            if stored >= target:
                elapsed = time.perf_counter() - first_at
                cpu = window.stop(groups())
                rows = stored - first_count
                if rows <= 0 or elapsed <= 0:
                    raise RuntimeError(
                        f"the whole drain ({stored} rows) came within one poll: nothing timed; "
                        "send more --messages"
                    )
                return {
                    "msg_per_s": rows / 3 / elapsed,
                    "cpu_us_per_msg": {g: round(s * 1e6 / (rows / 3), 1) for g, s in cpu.items()},
                    "cores": {g: round(s / elapsed, 2) for g, s in cpu.items()},
                }
            time.sleep(0.02)
        raise RuntimeError(
            f"only {stored} of {target} rows after {timeout}s{_exits(processes, logs)}"
        )
    finally:
        for process in processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
        poll.close()
        for log in logs:
            log.close()


def _exits(processes: list[subprocess.Popen], logs: list) -> str:
    """How each consumer ended (or that it still runs) and the end of its stderr."""
    told = []
    for process, log in zip(processes, logs, strict=True):
        log.seek(0)
        tail = log.read()[-2000:]
        told.append(f"\n--- {' '.join(process.args[3:])}: exit {process.poll()}\n{tail}")
    return "".join(told)


def drop_session(port: int, client_id: str) -> None:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    client.connect("127.0.0.1", port)
    client.loop_start()
    time.sleep(0.3)
    client.disconnect()
    client.loop_stop()


def fixtures(url: str) -> list[str]:
    setup_django(url)
    from django.db import connection
    from django.utils import timezone

    from sensorgrid.inventory.models import Node, NodeStatus
    from sensorgrid.tenancy.models import Organization

    org = Organization.objects.create(name="Bench", slug="bench")
    devices = [f"n{i:04d}" for i in range(1, NODES + 1)]
    # Devices that have been delivering (steady state): none is revived by the run.
    seen = timezone.now()
    Node.objects.bulk_create(
        Node(organization=org, device_id=d, status=NodeStatus.ALIVE, last_seen=seen)
        for d in devices
    )
    connection.close()
    return devices


def sensorgrid_messages(reference: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    out = []
    for topic, payload in reference:
        node = int(topic.split("/")[1])
        doc = json.loads(payload)
        ts = doc.pop("ts")
        out.append((f"sensorgrid/n{node:04d}/up", json.dumps({"ts": ts, "values": doc}).encode()))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--messages", type=int, default=60_000)
    parser.add_argument("--reference", default=str(ROOT.parent / "shared" / "bench"))
    parser.add_argument(
        "--only", default="reference,ingest_1,ingest_2", help="comma-separated consumers"
    )
    parser.add_argument(
        "--ingest-env", action="append", default=[], help="KEY=VALUE for sensorgrid ingest"
    )
    parser.add_argument(
        "--compare-env",
        action="append",
        default=[],
        help="KEY=VALUE: run sensorgrid ingest again with it (ingest_1_compared, …)",
    )
    args = parser.parse_args()
    only = set(args.only.split(","))
    ref_dir = Path(args.reference)
    sys.path.insert(0, str(ref_dir))
    import benchlib
    from tests.support.publisher import publish

    from sensorgrid.mqtt import Broker

    template, run_db, ref_db = "sg_bench_ref_tmpl", "sg_bench_ref_run", "sg_bench_ref_reference"
    recreate_database(f"{args.server}/{template}")
    fixtures(f"{args.server}/{template}")
    work = Path(tempfile.mkdtemp(prefix="sg-bench-ref-"))
    broker, port = start_mosquitto(work / "mosquitto")
    load0 = os.getloadavg()
    results: dict[str, dict] = {}
    env = {
        **os.environ,
        "SENSORGRID_MQTT_ROUTES": "sensorgrid/{device}/up=json",
        "SENSORGRID_LOG_LEVEL": "WARNING",
        "BENCH_MQTT_PORT": str(port),
        "BENCH_MQTT_HOST": "127.0.0.1",
    }
    # make_messages stamps each round of the nodes 10 s after the one before, from its
    # base: from now, a run of more than ~30,000 messages reached more than 5 minutes
    # into the future, which SensorGrid refuses (bad-timestamp) and the reference
    # stores, so the drain waited for rows that never came. The rounds end now instead.
    rounds = -(-args.messages // NODES)
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=10 * rounds)
    base_messages = benchlib.make_messages(args.messages, nodes=NODES, base=base)
    try:
        if "reference" in only:
            recreate_database(f"{args.server}/{ref_db}")
            dsn = f"{args.server}/{ref_db}"
            ref_env = {**env, "BENCH_PG_DSN": dsn}
            py = sys.executable
            limit = [py, str(ref_dir / "broker_limit.py"), "--qos", "1"]
            subprocess.run([*limit, "--setup-only"], env=ref_env, check=True, capture_output=True)
            import psycopg

            with psycopg.connect(dsn) as conn:
                benchlib.ensure_schema(conn)
            published = publish(Broker("127.0.0.1", port), base_messages, window=10_000)
            assert published == args.messages, published
            consumer = [
                *(py, str(ref_dir / "batched_collector.py"), "--expect", str(args.messages)),
                *("--qos", "1", "--persistent-session", "--keep"),
                *("--ack-after-commit", "--idempotent", "--idle-timeout", "3"),
            ]
            results["reference"] = drain(
                [consumer], ref_env, dsn, "samples", 3 * args.messages, broker.pid
            )
            subprocess.run([*limit, "--drop-session"], env=ref_env, capture_output=True)
        ingest = [
            sys.executable,
            "-m",
            "sensorgrid",
            "ingest",
            "--broker",
            f"mqtt://127.0.0.1:{port}",
        ]
        runs = {
            "ingest_1": [[*ingest, "--client-id", "ref-one", "--idle-exit", "5"]],
            "ingest_2": [
                [
                    *ingest,
                    "--client-id",
                    f"ref-two-{i}",
                    "--shared-group",
                    "ref-group",
                    "--idle-exit",
                    "5",
                ]
                for i in range(2)
            ],
        }
        if args.compare_env:  # the same runs again with other settings, in the same run
            # (client ids and group of their own: the first runs' sessions stay subscribed)
            runs |= {
                f"{name}_compared": [
                    [arg.replace("ref-", "cmp-") if arg.startswith("ref-") else arg for arg in c]
                    for c in commands
                ]
                for name, commands in runs.items()
            }
        messages = sensorgrid_messages(base_messages)
        for name, commands in runs.items():
            if name.removesuffix("_compared") not in only:
                continue
            recreate_database(f"{args.server}/{run_db}", template)
            dsn = f"{args.server}/{run_db}"
            sg_env = {**env, "SENSORGRID_DATABASE_URL": dsn}
            sg_env.update(item.split("=", 1) for item in args.ingest_env)
            if name.endswith("_compared"):
                sg_env.update(item.split("=", 1) for item in args.compare_env)
            for command in commands:  # the persistent sessions exist before the backlog
                subprocess.run(command, env=sg_env, check=True, capture_output=True)
            published = publish(Broker("127.0.0.1", port), messages, window=10_000)
            assert published == args.messages, published
            results[name] = drain(
                commands, sg_env, dsn, "telemetry_sample", 3 * args.messages, broker.pid
            )
            for command in commands:  # no later backlog is queued for these sessions
                drop_session(port, command[command.index("--client-id") + 1])
    finally:
        broker.terminate()
        broker.wait(timeout=10)
    out: dict = {
        "bench": "mqtt_vs_reference",
        "messages": args.messages,
        "readings_per_message": 3,
        "nodes": NODES,
        "ingest_env": args.ingest_env,
        "compare_env": args.compare_env,
        "loadavg_before": [round(x, 2) for x in load0],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
    }
    for name, r in results.items():
        out[name] = {**r, "msg_per_s": round(r["msg_per_s"])}
    ref = results.get("reference")
    if ref:
        for name in ("ingest_1", "ingest_2", "ingest_1_compared", "ingest_2_compared"):
            if name in results:
                out[f"{name}_vs_reference"] = round(
                    results[name]["msg_per_s"] / ref["msg_per_s"], 2
                )
    print(json.dumps(out))


if __name__ == "__main__":
    main()
