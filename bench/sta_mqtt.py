"""SensorThings MQTT: how long a new value takes to reach its subscribers, and what one
round of reading costs the server, by the number of distinct subscribing users.

    .venv/bin/python bench/sta_mqtt.py [--database postgres://postgres@127.0.0.1:5432/sg_stamqtt_bench]
                                       [--users 1,10,100] [--batches 20] [--batch 100]

The database named is dropped and created anew. One organization with one node; N users
(inspectors of it, so each is a reading of his own), each with a paho subscriber to
``v1.1/Observations`` on the server (sensorthings/mqtt/server.py, in this process, on a
free port; the in-memory channel layer hands it the feed). Each batch is ``--batch``
values of one series through the ingest pipeline (``samples.ingest_many``, what POSTs
and HTTP ingest run); latency is from before that call to the moment every subscriber
has every value of the batch (it includes the commit). ``round_ms`` is the server's
reading of one round (``_render``: walls, resolve, collection, JSON) for all its users.
Prints one JSON line.
"""

import argparse
import asyncio
import json
import statistics
import threading
import time
from datetime import UTC, datetime, timedelta

from common import recreate_database, setup_django


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/sg_stamqtt_bench")
    parser.add_argument("--users", default="1,10,100")
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()
    recreate_database(args.database)
    setup_django(args.database)

    import paho.mqtt.client as paho

    from sensorgrid.accounts.models import ApiToken
    from sensorgrid.inventory.models import Node, NodeModel, Quantity
    from sensorgrid.sensorthings import mirror
    from sensorgrid.sensorthings.mqtt import server as server_module
    from sensorgrid.sensorthings.write import samples
    from sensorgrid.tenancy.models import Membership, Organization, Role, User

    co2 = Quantity.objects.get(key="co2")
    organization = Organization.objects.create(name="bench", slug="bench")
    model = NodeModel.objects.create(organization=None, manufacturer="Bench", name="Bench")
    model.quantities.add(co2)
    node = Node.objects.create(organization=organization, device_id="bench-1", model=model)
    mirror.ensure()

    rounds: list[float] = []
    render = server_module._render

    def timed(*arguments):
        start = time.perf_counter()
        try:
            return render(*arguments)
        finally:
            rounds.append((time.perf_counter() - start) * 1000)

    server_module._render = timed
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    server = server_module.Server("127.0.0.1", 0, "http://bench/sta/v1.1/")
    asyncio.run_coroutine_threadsafe(server.start(), loop).result(30)

    state = {"clock": datetime.now(UTC) - timedelta(days=1), "made": 0}

    def run(users: int) -> dict:
        counts = [0] * users
        done = threading.Condition()
        clients = []
        while state["made"] < users:
            user = User.objects.create(username=f"reader{state['made']}")
            Membership.objects.create(user=user, organization=organization, role=Role.INSPECTOR)
            state["made"] += 1

        def on_message(n: int) -> None:
            with done:
                counts[n] += 1
                done.notify_all()

        for n in range(users):
            _, key = ApiToken.objects.issue(User.objects.get(username=f"reader{n}"), "bench")
            client = paho.Client(paho.CallbackAPIVersion.VERSION2, protocol=paho.MQTTv311)
            client.username_pw_set(f"reader{n}", key)
            subscribed = threading.Event()
            client.on_message = lambda c, u, m, n=n: on_message(n)
            client.on_subscribe = lambda *a, s=subscribed: s.set()
            client.on_connect = lambda c, *a: c.subscribe("v1.1/Observations")
            client.connect("127.0.0.1", server.port)
            client.loop_start()
            assert subscribed.wait(30)
            clients.append(client)
        latencies = []
        rounds.clear()
        for _ in range(args.batches):
            items = []
            for _ in range(args.batch):
                state["clock"] += timedelta(seconds=1)
                items.append((state["clock"], 400.0 + len(items)))
            target = [c + args.batch for c in counts]
            start = time.perf_counter()
            samples.ingest_many(node, co2, items)
            with done:
                reached = done.wait_for(
                    lambda target=target: all(a >= b for a, b in zip(counts, target, strict=True)),
                    120,
                )
                assert reached, (counts, target)
            latencies.append((time.perf_counter() - start) * 1000)
        for client in clients:
            client.disconnect()
            client.loop_stop()
        time.sleep(0.5)
        latencies.sort()
        return {
            "latency_ms_p50": round(statistics.median(latencies), 1),
            "latency_ms_p95": round(latencies[max(int(len(latencies) * 0.95) - 1, 0)], 1),
            "round_ms_p50": round(statistics.median(rounds), 1) if rounds else None,
            "rounds": len(rounds),
        }

    results = {users: run(users) for users in [int(n) for n in args.users.split(",")]}
    print(json.dumps({"batch": args.batch, "batches": args.batches, "by_users": results}))
    asyncio.run_coroutine_threadsafe(server.stop(), loop).result(30)


if __name__ == "__main__":
    main()
