"""MQTT ingest benchmark: drain a backlog of QoS 1 messages into PostgreSQL,
acknowledging after commit, with a naive collector, `sensorgrid ingest` in one
process, and in two processes on a shared subscription. One run, own Mosquitto.
With ``--dynsec`` also one process at a second Mosquitto with the dynamic security
plugin (the ingest service logged in as its ``sg-ingest`` account, every message it
receives checked against its role): the cost of broker authentication (issue 20).

    .venv/bin/python bench/ingest.py [--database postgres://postgres@127.0.0.1:5432/sensorgrid_bench]

Each consumer first connects once to create its persistent session; then the backlog
is published; then the consumer starts and the clock runs from its first stored
sample to its last (process start-up is not counted). Prints one JSON line.
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

from common import ROOT, recreate_database, setup_django, start_mosquitto

DEVICES = 50


def fixtures() -> list[str]:
    from sensorgrid.inventory.models import Node
    from sensorgrid.tenancy.models import Organization

    org = Organization.objects.create(name="Bench", slug="bench")
    devices = [f"bench-{i:03d}" for i in range(DEVICES)]
    Node.objects.bulk_create(Node(organization=org, device_id=d) for d in devices)
    return devices


def backlog(
    port: int,
    devices: list[str],
    count: int,
    start: datetime,
    values: int,
    username: str | None = None,
    password: str | None = None,
) -> None:
    from tests.support.publisher import publish

    from sensorgrid.mqtt import Broker

    keys = ["co2", "temperature", "humidity", "pressure"][:values]

    def messages():
        for n in range(count):
            ts = start + timedelta(seconds=n // DEVICES)
            body = {
                "ts": ts.isoformat(),
                "values": {k: 20 + (n + i) % 50 for i, k in enumerate(keys)},
            }
            yield f"sensorgrid/{devices[n % DEVICES]}/up", json.dumps(body)

    broker = Broker("127.0.0.1", port, username=username, password=password)
    published = publish(broker, messages(), window=10_000)
    if published != count:
        raise RuntimeError(f"only {published} of {count} messages were acknowledged")


def samples() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM telemetry_sample")
        return cursor.fetchone()[0]


def drain(commands: list[list[str]], env: dict, target: int, timeout: float = 600) -> float:
    """Start the consumers; messages per second from the first stored sample to the last."""
    before = samples()
    processes = [
        subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for command in commands
    ]
    try:
        deadline = time.monotonic() + timeout
        first_at, first_count = None, 0
        while time.monotonic() < deadline:
            stored = samples() - before
            if first_at is None and stored > 0:
                first_at, first_count = time.perf_counter(), stored
            if stored >= target:
                return (stored - first_count) / (time.perf_counter() - first_at)
            time.sleep(0.02)
        raise RuntimeError(f"only {samples() - before} of {target} samples after {timeout}s")
    finally:
        for process in processes:
            process.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/sensorgrid_bench")
    parser.add_argument("--messages", type=int, default=60_000)
    parser.add_argument("--naive-messages", type=int, default=10_000)
    parser.add_argument("--values", type=int, default=1, help="values per message (1-4)")
    parser.add_argument("--dynsec", action="store_true", help="also at a dynsec broker")
    args = parser.parse_args()
    recreate_database(args.database)
    setup_django(args.database)
    devices = fixtures()
    work = Path(tempfile.mkdtemp(prefix="sg-bench-ingest-"))
    broker, port = start_mosquitto(work / "mosquitto")
    env = {
        **os.environ,
        "SENSORGRID_DATABASE_URL": args.database,
        "SENSORGRID_MQTT_ROUTES": "sensorgrid/{device}/up=json",
        "SENSORGRID_LOG_LEVEL": "WARNING",
    }
    ingest = [sys.executable, "-m", "sensorgrid", "ingest", "--broker", f"mqtt://127.0.0.1:{port}"]
    naive = [
        *(sys.executable, str(ROOT / "bench" / "naive_collector.py"), "--broker-port", str(port)),
        *("--database", args.database, "--idle-exit", "1"),
    ]
    one = [[*ingest, "--client-id", "bench-one", "--idle-exit", "1"]]
    two = [
        [*ingest, "--client-id", f"bench-two-{i}", "--shared-group", "bench", "--idle-exit", "1"]
        for i in range(2)
    ]
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=20)
    results = {}
    try:
        for name, commands, count in (
            ("naive", [naive], args.naive_messages),
            ("ingest_1_process", one, args.messages),
            ("ingest_2_processes", two, args.messages),
        ):
            # Run each consumer once, idle: its persistent session exists before the backlog.
            for command in commands:
                subprocess.run(command, env=env, check=True, capture_output=True)
            backlog(port, devices, count, start, args.values)
            start += timedelta(days=2)
            results[name] = drain(commands, env, count * args.values) / args.values
        if args.dynsec:
            results["ingest_1_process_dynsec"] = with_dynsec(work, devices, env, args, start)
    finally:
        broker.terminate()
        broker.wait(timeout=10)
    print(
        json.dumps(
            {
                "bench": "ingest",
                "database": "postgresql",
                "values_per_message": args.values,
                "messages": args.messages,
                "naive_msg_per_s": round(results["naive"]),
                "ingest_1_process_msg_per_s": round(results["ingest_1_process"]),
                "ingest_2_processes_msg_per_s": round(results["ingest_2_processes"]),
                "one_process_vs_naive": round(results["ingest_1_process"] / results["naive"], 1),
                "two_processes_vs_naive": round(
                    results["ingest_2_processes"] / results["naive"], 1
                ),
                "two_vs_one_process": round(
                    results["ingest_2_processes"] / results["ingest_1_process"], 2
                ),
                **(
                    {
                        "ingest_1_process_dynsec_msg_per_s": round(
                            results["ingest_1_process_dynsec"]
                        ),
                        "dynsec_vs_open": round(
                            results["ingest_1_process_dynsec"] / results["ingest_1_process"], 2
                        ),
                    }
                    if args.dynsec
                    else {}
                ),
            }
        )
    )


def with_dynsec(work: Path, devices: list[str], env: dict, args, start: datetime) -> float:
    """One ingest process at a broker with the dynamic security plugin; messages/s."""
    from django.conf import settings
    from tests.support.dynsec_broker import DynsecMosquitto

    from sensorgrid.brokerauth import accounts
    from sensorgrid.brokerauth.dynsec import Dynsec
    from sensorgrid.mqtt import parse

    broker = DynsecMosquitto(work / "dynsec").start()
    try:
        settings.SENSORGRID_MQTT_ROUTES = ["sensorgrid/{device}/up=json"]
        settings.SENSORGRID_MQTT_URL = broker.url_for("sg-ingest", "bench-ingest")
        with Dynsec(parse(broker.admin_url), timeout=60) as dynsec:
            dynsec.execute(accounts.diff(accounts.desired(), accounts.actual(dynsec)).commands)
            # the load generator publishes for every device (the devices' own roles allow
            # each only its topic; checking one account or fifty costs the broker alike)
            dynsec.execute(
                [
                    {
                        "command": "createRole",
                        "rolename": "bench-publisher",
                        "acls": [
                            {
                                "acltype": "publishClientSend",
                                "topic": "sensorgrid/+/up",
                                "allow": True,
                            }
                        ],
                    },
                    {
                        "command": "createClient",
                        "username": "bench-publisher",
                        "password": "bench-publisher",
                        "roles": [{"rolename": "bench-publisher"}],
                    },
                ]
            )
        command = [
            *(sys.executable, "-m", "sensorgrid", "ingest"),
            *("--broker", settings.SENSORGRID_MQTT_URL, "--client-id", "bench-dynsec"),
            *("--idle-exit", "1"),
        ]
        subprocess.run(command, env=env, check=True, capture_output=True)
        backlog(
            broker.port,
            devices,
            args.messages,
            start,
            args.values,
            "bench-publisher",
            "bench-publisher",
        )
        return drain([command], env, args.messages * args.values) / args.values
    finally:
        broker.stop()


if __name__ == "__main__":
    main()
