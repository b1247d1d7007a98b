"""Against a throwaway Mosquitto and the real ingest service: broker outages and a
killed simulator lose nothing, duplicate nothing and keep each device's order."""

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime

import pytest
from django.conf import settings

from sensorgrid.ingest.events import Committed
from sensorgrid.inventory.models import Quantity
from sensorgrid.mqtt import parse
from sensorgrid.simulator import profiles
from sensorgrid.simulator.queue import OfflineQueue
from sensorgrid.simulator.registration import register
from sensorgrid.simulator.run import Schedule, Simulator, devices
from sensorgrid.simulator.transports import Mqtt
from sensorgrid.telemetry.models import Sample
from tests.ingest.mqtt.conftest import eventually, running
from tests.servers import Mosquitto

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def mosquitto(tmp_path):
    server = Mosquitto(tmp_path / "mosquitto").start()
    yield server
    server.stop()


@pytest.fixture
def arrivals(listen):
    """(node id, ts) of each stored co2 row, in the order the ingester committed them."""
    co2 = Quantity.objects.get(key="co2").pk
    seen: list[tuple[int, datetime]] = []

    def record(report):
        seen.extend((row.node_id, row.ts) for row in report.rows if row.quantity_id == co2)

    listen(Committed, record)
    return seen


def stored(nodes) -> dict[str, list[datetime]]:
    co2 = Sample.objects.filter(quantity__key="co2")
    return {
        device: list(co2.filter(node=node).order_by("ts").values_list("ts", flat=True))
        for device, node in nodes.items()
    }


def in_order(arrivals, nodes) -> bool:
    """Each device's first arrivals of each instant came in time order."""
    for node in nodes.values():
        firsts = list(dict.fromkeys(ts for node_id, ts in arrivals if node_id == node.pk))
        if firsts != sorted(firsts):
            return False
    return True


def test_a_broker_outage_loses_and_duplicates_nothing(world, mosquitto, tmp_path, arrivals):
    room = profiles.get("room")
    device_list = devices(room, 10, 5)
    nodes = register(room, device_list, "org-a")
    generated: dict[str, list[datetime]] = {d.device_id: [] for d in device_list}
    queue = OfflineQueue(tmp_path / "queue.sqlite3")
    simulator = Simulator(
        room,
        device_list,
        Schedule(2, 10),
        queue,
        Mqtt(parse(mosquitto.url), "sensorgrid-sim-room-5"),
        on_generate=lambda device, tick, uplink: generated[device.device_id].append(uplink.ts),
    )
    with running(mosquitto.url, client_id="ingest-outage"):
        thread = threading.Thread(target=simulator.run, kwargs={"duration": 15}, daemon=True)
        thread.start()
        time.sleep(2)
        mosquitto.stop()
        time.sleep(10)
        assert queue.pending() > 150  # 10 s of 10 devices × 2/s waited in the queue
        mosquitto.start()
        thread.join(40)
        assert not thread.is_alive()
        assert queue.pending() == 0 and queue.dropped() == 0
        eventually(lambda: stored(nodes) == generated, timeout=20, what="every message stored")
    assert sum(map(len, generated.values())) > 280
    assert in_order(arrivals, nodes)


def simulate(mosquitto, queue_path, duration: float) -> subprocess.Popen:
    env = {
        **os.environ,
        "SENSORGRID_VAR_DIR": str(queue_path.parent),
        "SENSORGRID_DATABASE_URL": f"sqlite:///{queue_path.parent / 'unused.sqlite3'}",
    }
    command = [sys.executable, "-m", "sensorgrid", "simulate", "--profile", "room"]
    command += ["--count", "3", "--rate", "5", "--seed", "9", "--broker", mosquitto.url]
    command += ["--queue", str(queue_path), "--duration", str(duration)]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def test_a_killed_simulator_resends_what_the_broker_did_not_acknowledge(
    world, mosquitto, tmp_path, arrivals
):
    room = profiles.get("room")
    device_list = devices(room, 3, 9)
    nodes = register(room, device_list, "org-a")
    queue_path = tmp_path / "sim" / "queue.sqlite3"
    with running(mosquitto.url, client_id="ingest-kill"):
        first = simulate(mosquitto, queue_path, 60)
        eventually(lambda: sum(map(len, stored(nodes).values())) > 10, what="first messages")
        time.sleep(1)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        time.sleep(1)  # the devices missed ticks: the restart generates them
        second = simulate(mosquitto, queue_path, 2)
        output, _ = second.communicate(timeout=40)
        assert second.returncode == 0, output.decode()
        queue = OfflineQueue(queue_path)
        assert queue.pending() == 0, output.decode()
        schedule = Schedule(5, 3)
        expected = {}
        for device in device_list:
            first_tick, next_tick = queue.ticks(device.device_id)
            expected[device.device_id] = [
                schedule.at(device, tick) for tick in range(first_tick, next_tick)
            ]
        queue.close()
        eventually(lambda: stored(nodes) == expected, timeout=20, what="every message stored")
    assert all(len(ts) > 20 for ts in expected.values())
    assert in_order(arrivals, nodes)
    assert datetime.now(UTC) > max(max(ts) for ts in expected.values())
    assert settings.DATABASES  # the simulator itself needed no database
