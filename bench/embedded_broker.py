"""What authentication costs the demo's embedded broker (amqtt): QoS 1 publishes per second.

    .venv/bin/python bench/embedded_broker.py [--messages 5000] [--rounds 2]

One node publishes ``--messages`` QoS 1 messages (100 in flight) on its own topic to the
broker as ``sensorgrid broker`` runs it (the database plugin: password checked at
CONNECT, topic check on every PUBLISH from a 5 s cache) and to amqtt with its stock
``AnonymousAuthPlugin`` (the open broker of before issue 20), alternately, in this
process on a SQLite database of its own. Prints one JSON line per run.
"""

import argparse
import asyncio
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import free_port, setup_django

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.support.publisher


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    os.environ["SENSORGRID_VAR_DIR"] = tempfile.mkdtemp(prefix="bench-embedded-")
    setup_django("")

    from amqtt.broker import Broker as OpenBroker
    from tests.servers import wait_for_port
    from tests.support.publisher import publish

    from sensorgrid.brokerauth import embedded
    from sensorgrid.inventory.models import Node
    from sensorgrid.mqtt import Broker
    from sensorgrid.runtime import broker as runtime_broker
    from sensorgrid.tenancy.models import Organization

    organization = Organization.objects.create(name="Bench", slug="bench")
    node = Node.objects.create(organization=organization, device_id="bench-1")
    credential = node.issue_credential()
    node.save()

    def run(kind: str) -> dict:
        accounts = Path(tempfile.mkdtemp()) / "broker"
        embedded.create_service_accounts(accounts)
        port = free_port()
        if kind == "authenticated":
            config = runtime_broker.config("127.0.0.1", port, accounts)
            broker_class = embedded.AuthenticatingBroker
            login = {"username": node.broker_username, "password": credential}
        else:
            config = {
                "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{port}"}},
                "plugins": {
                    "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}
                },
            }
            broker_class, login = OpenBroker, {}
        loop, stop = asyncio.new_event_loop(), asyncio.Event()

        async def serve() -> None:
            broker = broker_class(config)
            await broker.start()
            await stop.wait()
            await broker.shutdown()

        thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
        thread.start()
        wait_for_port(port)
        messages = (
            ("sensorgrid/bench-1/up", '{"values": {"co2": 612}}') for _ in range(args.messages)
        )
        started = time.perf_counter()
        acknowledged = publish(Broker("127.0.0.1", port, **login), messages, window=100)
        seconds = time.perf_counter() - started
        loop.call_soon_threadsafe(stop.set)
        thread.join(15)
        return {
            "broker": kind,
            "acknowledged": acknowledged,
            "seconds": round(seconds, 2),
            "per_second": round(acknowledged / seconds),
        }

    for _ in range(args.rounds):
        for kind in ("open", "authenticated"):
            print(json.dumps(run(kind)), flush=True)


if __name__ == "__main__":
    main()
