"""Broker sync benchmark: 10,000 nodes into Mosquitto's dynamic security plugin.

    .venv/bin/python bench/broker_sync.py [--database postgres://postgres@127.0.0.1:5432/sg_broker_sync]
        [--nodes 10000] [--live-nodes 1000] [--batch 1000]

A fresh database with ``--nodes`` nodes (each with a credential, its password known as
when the outbox holds it) in 10 organizations, throwaway Mosquittos with the plugin
(tests/support/dynsec_broker.py). Times what ``sensorgrid broker sync`` does (read the
inventory, read the broker's clients and roles, diff, apply):

- ``file``: ``--config-file`` on the stopped broker's dynamic-security.json, then the
  broker started (all ``--nodes`` nodes, passwords hashed as the plugin does);
- ``again``: a live sync of the started broker: nothing to do ("in sync");
- ``live_20_new``: 20 more nodes through the live API at this size (what the outbox
  and a live sync pay per change: the plugin rewrites its whole file per command);
- ``live_empty``: a live sync of ``--live-nodes`` nodes into an empty broker.

Prints one JSON line. Target: 10,000 nodes ≤ 60 s.
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from common import recreate_database, setup_django


def populate(count: int, start: int = 0) -> dict[str, str]:
    """``count`` nodes; their passwords by broker username (the outbox's pending ones)."""
    from sensorgrid.inventory import credentials
    from sensorgrid.inventory.models import Node
    from sensorgrid.tenancy.models import Organization

    organizations = list(Organization.objects.order_by("pk")[:10])
    for i in range(len(organizations), 10):
        organizations.append(Organization.objects.create(name=f"Org {i}", slug=f"org-{i}"))
    plain = {f"dev-{i:05d}": credentials.new_credential() for i in range(start, start + count)}
    Node.objects.bulk_create(
        (
            Node(
                organization=organizations[i % 10],
                device_id=device_id,
                credential_digest=credentials.digest(password),
            )
            for i, (device_id, password) in enumerate(plain.items())
        ),
        batch_size=2000,
    )
    rows = Node.objects.filter(device_id__in=plain).values_list("pk", "device_id")
    return {f"node-{pk}": plain[device_id] for pk, device_id in rows}


def live_sync(dynsec, passwords: dict[str, str], batch: int) -> dict:
    from sensorgrid.brokerauth import accounts

    started = time.perf_counter()
    result = accounts.diff(accounts.desired(), accounts.actual(dynsec), passwords)
    dynsec.execute(result.commands, batch=batch)
    return {
        "seconds": round(time.perf_counter() - started, 2),
        "changes": len(result.changes),
        "commands": len(result.commands),
    }


def file_sync(path: Path, passwords: dict[str, str]) -> dict:
    from sensorgrid.brokerauth import accounts, config_file

    started = time.perf_counter()
    data = config_file.read(path)
    result = accounts.diff(accounts.desired(), config_file.state(data), passwords)
    config_file.write(path, config_file.apply(data, result.commands))
    return {
        "seconds": round(time.perf_counter() - started, 2),
        "changes": len(result.changes),
        "commands": len(result.commands),
        "bytes": path.stat().st_size,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/sg_broker_sync")
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--live-nodes", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()

    recreate_database(args.database)
    setup_django(args.database)
    from django.conf import settings
    from tests.support.dynsec_broker import DynsecMosquitto

    from sensorgrid.brokerauth.dynsec import Dynsec
    from sensorgrid.inventory.models import Node
    from sensorgrid.mqtt import parse

    settings.SENSORGRID_MQTT_ROUTES = []  # the built-in routes: 3 name a device
    passwords = populate(args.nodes)
    report: dict = {"benchmark": "broker_sync", "nodes": args.nodes, "batch": args.batch}
    with tempfile.TemporaryDirectory() as directory:
        broker = DynsecMosquitto(Path(directory) / "broker")
        settings.SENSORGRID_MQTT_URL = broker.url_for("sg-ingest", "bench")
        try:
            report["file"] = file_sync(broker.directory / "dynamic-security.json", passwords)
            started = time.perf_counter()
            broker.start()
            with Dynsec(parse(broker.admin_url), timeout=600) as dynsec:
                report["file"]["broker_start_s"] = round(time.perf_counter() - started, 2)
                report["again"] = live_sync(dynsec, {}, args.batch)
                more = populate(20, start=args.nodes)
                report["live_20_new"] = live_sync(dynsec, more, args.batch)
                report["live_20_new"]["per_node_s"] = round(
                    report["live_20_new"]["seconds"] / 20, 3
                )
        finally:
            broker.stop()

        Node.objects.all().delete()
        passwords = populate(args.live_nodes)
        empty = DynsecMosquitto(Path(directory) / "empty").start()
        try:
            with Dynsec(parse(empty.admin_url), timeout=600) as dynsec:
                report["live_empty"] = dict(
                    live_sync(dynsec, passwords, args.batch), nodes=args.live_nodes
                )
        finally:
            empty.stop()
    if report["again"]["changes"]:
        sys.exit(f"not in sync after the file sync: {report}")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
