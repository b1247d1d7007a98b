"""The private paho API SensorGrid relies on still exists, and the fast path is taken.

The ingest client (ingest/mqtt/fastpath.py) and the outbound guard's client
(outbound/mqtt.py) override or call private paho names for measured gains
(docs/performance.md) and for the guard (docs/security.md). A paho release may rename
them without notice: an override of a method paho no longer calls is dead code, and
the ingester would silently fall back to paho's slow reads. pyproject pins paho to one
minor version; before moving the pin, this file must pass on the new version.
"""

import inspect
import threading
import tomllib
import uuid
from importlib.metadata import version
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from packaging.requirements import Requirement
from packaging.version import Version
from paho.mqtt.enums import CallbackAPIVersion

from sensorgrid.ingest.mqtt import config
from sensorgrid.ingest.mqtt.fastpath import BufferedClient
from sensorgrid.ingest.mqtt.service import Ingester
from sensorgrid.outbound.mqtt import GuardedClient
from sensorgrid.simulator.transports import _Client as SimulatorClient
from tests.ingest.conftest import hours_ago
from tests.ingest.mqtt.conftest import eventually, running, send
from tests.servers import wait_for_port

#: every subclass of paho.Client in src/, and the methods it adds (all others override)
SUBCLASSES = {BufferedClient: {"__init__", "ack_all"}, GuardedClient: set(), SimulatorClient: set()}
#: private methods the overrides call, with the parameters they pass
CALLED = {
    "_sock_recv": ["bufsize"],
    "_handle_publish": [],
    "_handle_on_message": ["message"],
    "_send_puback": ["mid"],
    "_packet_queue": ["command", "packet", "mid", "qos", "info"],
}
#: private attributes of a client the overrides read
ATTRIBUTES = ["_in_packet", "_protocol", "_manual_ack", "_userdata"]
ATTRIBUTES += ["_transport", "_host", "_port", "_connect_timeout"]  # outbound/mqtt.py


def parameters(function) -> list[str]:
    return [name for name in inspect.signature(function).parameters if name != "self"]


def test_paho_is_pinned_to_the_installed_minor_version():
    pyproject = Path(__file__).resolve().parents[3] / "pyproject.toml"
    dependencies = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    [pin] = [Requirement(d) for d in dependencies if d.startswith("paho-mqtt")]
    installed = Version(version("paho-mqtt"))
    assert installed in pin.specifier, f"paho-mqtt {installed} is not {pin.specifier}"
    minor = f"{installed.major}.{installed.minor}"
    assert {str(s) for s in pin.specifier} == {
        f">={minor}",
        f"<{installed.major}.{installed.minor + 1}",
    }, "pin paho-mqtt to one minor version: its private API is overridden"


@pytest.mark.parametrize("subclass", SUBCLASSES, ids=lambda c: f"{c.__module__}.{c.__name__}")
def test_every_overridden_paho_method_still_exists_with_its_parameters(subclass):
    own = SUBCLASSES[subclass]
    overridden = [
        name
        for name, value in vars(subclass).items()
        if inspect.isfunction(value) and name not in own
    ]
    assert overridden, "the subclass overrides nothing: update SUBCLASSES"
    for name in overridden:
        assert hasattr(paho.Client, name), f"paho.Client.{name} is gone: {subclass} overrides it"
        assert parameters(getattr(subclass, name)) == parameters(getattr(paho.Client, name))


def test_the_private_names_the_overrides_use_still_exist():
    for name, expected in CALLED.items():
        assert parameters(getattr(paho.Client, name)) == expected, name
    client = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5, manual_ack=True)
    for name in ATTRIBUTES:
        assert hasattr(client, name), f"paho.Client has no {name} any more"
    assert {"command", "packet"} <= client._in_packet.keys()
    assert client._protocol == paho.MQTTv5 and client._manual_ack is True
    assert callable(paho.time_func)
    assert paho.MQTTMessage(7, b"a/b")._topic == b"a/b"


def reading(device: str, n: int) -> tuple[str, dict]:
    return f"sensorgrid/{device}/up", {"ts": hours_ago(n / 60).isoformat(), "values": {"co2": n}}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
def test_the_fast_path_is_taken_against_a_real_broker(world, mosquitto, settings, protocol):
    settings.SENSORGRID_MQTT_ROUTES = ["sensorgrid/{device}/up=json"]
    count = 200
    client_id = f"contract-{uuid.uuid4().hex[:8]}"
    with running(mosquitto.url, client_id=client_id, protocol=protocol):
        pass  # the persistent session: the messages below arrive as one backlog
    assert send(mosquitto.url, [reading(world.node_a.device_id, n) for n in range(count)]) == count
    options = config.options(url=mosquitto.url, client_id=client_id, protocol=protocol)
    ingester = Ingester(options, config.route_table())
    thread = threading.Thread(target=ingester.run, daemon=True)
    thread.start()
    try:
        eventually(lambda: ingester.stored_messages == count, what=f"{count} stored")
    finally:
        ingester.stop()
        thread.join(15)
    client = ingester.connection._client
    # Every PUBLISH was decoded by the fast path, none by paho, …
    assert (client.decoded_here, client.decoded_by_paho) == (count, 0)
    # … read in a few large reads, not three per packet …
    assert client.socket_reads < count / 10, client.socket_reads
    # … and acknowledged through _packet_queue: the broker sends nothing again.
    with running(mosquitto.url, client_id=client_id, protocol=protocol) as again:
        threading.Event().wait(1.5)
        assert again.stored_messages == 0


class CountingConnects(paho.Client):
    """paho opening its sockets through the name the outbound guard overrides."""

    opened = 0

    def _create_socket_connection(self):
        self.opened += 1
        return super()._create_socket_connection()


def test_paho_opens_its_socket_through_the_method_the_outbound_guard_overrides(mosquitto):
    wait_for_port(mosquitto.port)
    client = CountingConnects(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv311)
    connected = threading.Event()
    client.on_connect = lambda *args: connected.set()
    client.connect("127.0.0.1", mosquitto.port)
    client.loop_start()
    try:
        assert connected.wait(10)
    finally:
        client.disconnect()
        client.loop_stop()
    assert client.opened == 1
