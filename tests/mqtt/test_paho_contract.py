"""The private paho API sensorgrid.mqtt relies on still exists, and the fast path is taken.

The fast path (mqtt/fastpath.py) and the socket hook of every client (mqtt/client.py,
the outbound guard's way in) override or call private paho names for measured gains
(docs/performance.md) and for the guard (docs/security.md). A paho release may rename
them without notice: an override of a method paho no longer calls is dead code, and
the ingester would silently fall back to paho's slow reads, or the alert channel
would connect unguarded. pyproject pins paho to one minor version; before moving the
pin, this file must pass on the new version.
"""

import inspect
import socket
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

from sensorgrid.mqtt import Client, make_client
from sensorgrid.mqtt.fastpath import BufferedClient
from tests.mqtt.conftest import eventually
from tests.support.publisher import publish

#: every subclass of paho.Client in src/, and the methods it adds (all others override)
SUBCLASSES = {Client: {"start", "stop"}, BufferedClient: {"__init__", "ack_all"}}
#: private methods the overrides call, with the parameters they pass
CALLED = {
    "_sock_recv": ["bufsize"],
    "_handle_publish": [],
    "_handle_on_message": ["message"],
    "_send_puback": ["mid"],
    "_packet_queue": ["command", "packet", "mid", "qos", "info"],
    "_create_socket_connection": [],
}
#: private attributes of a client the overrides read
ATTRIBUTES = ["_in_packet", "_protocol", "_manual_ack", "_userdata"]
ATTRIBUTES += ["_transport", "_host", "_port", "_connect_timeout"]  # Client's open_socket


def parameters(function) -> list[str]:
    return [name for name in inspect.signature(function).parameters if name != "self"]


def test_paho_is_pinned_to_the_installed_minor_version():
    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
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
    methods = {name for name, value in vars(subclass).items() if inspect.isfunction(value)}
    overridden = methods - own
    assert overridden, "the subclass overrides nothing: update SUBCLASSES"
    for name in overridden:
        assert hasattr(paho.Client, name), f"paho.Client.{name} is gone: {subclass} overrides it"
        assert parameters(getattr(subclass, name)) == parameters(getattr(paho.Client, name))
    # A method we add must not override one paho gains in a later version.
    for name in own - {"__init__"}:
        assert not hasattr(paho.Client, name), f"paho.Client now has {name}: rename ours"


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


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
def test_the_fast_path_is_taken_against_a_real_broker(mosquitto, protocol):
    count = 200
    client_id = f"contract-{uuid.uuid4().hex[:8]}"
    received: list[int] = []
    subscribed = threading.Event()

    def subscriber() -> BufferedClient:
        client = make_client(
            mosquitto.url,
            name="contract",
            client_id=client_id,
            protocol=protocol,
            persistent=True,
            session_expiry=300,
            manual_ack=True,
            fast_path=True,
            callbacks={
                "on_connect": lambda c, *_: c.subscribe("contract/#", qos=1),
                "on_subscribe": lambda *_: subscribed.set(),
                "on_message": lambda c, u, message: received.append(message.mid),
            },
        )
        assert isinstance(client, BufferedClient)
        return client

    # The persistent session first: the messages below then arrive as one backlog.
    first = subscriber()
    first.start()
    assert subscribed.wait(10)
    first.stop()
    messages = ((f"contract/{n % 7}", f"reading {n}") for n in range(count))
    assert publish(first.broker, messages) == count
    client = subscriber()
    client.start()
    try:
        eventually(lambda: len(received) == count, what=f"{count} messages")
        # Every PUBLISH was decoded by the fast path, none by paho, …
        assert (client.decoded_here, client.decoded_by_paho) == (count, 0)
        # … read in a few large reads, not three per packet …
        assert client.socket_reads < count / 10, client.socket_reads
        client.ack_all(received)
        # The acknowledgements are on the wire before the client goes: stop() ends the
        # network thread, which on a loaded machine may not have written them yet.
        eventually(lambda: not client.want_write(), what="the acknowledgements written")
    finally:
        client.stop()
    # … and acknowledged through _packet_queue: the broker sends nothing again.
    received.clear()
    again = subscriber()
    again.start()
    try:
        threading.Event().wait(1.5)
        assert received == []
    finally:
        again.stop()


def test_paho_opens_its_socket_through_the_hook_the_outbound_guard_uses(mosquitto):
    opened: list[tuple[str, int]] = []

    def open_socket(address: tuple[str, int], timeout: float) -> socket.socket:
        opened.append(address)
        return socket.create_connection(address, timeout)

    connected = threading.Event()
    client = make_client(
        mosquitto.url,
        name="contract",
        open_socket=open_socket,
        callbacks={"on_connect": lambda *_: connected.set()},
    )
    client.start(wait=True)
    try:
        assert connected.wait(10)
    finally:
        client.stop()
    assert opened == [("127.0.0.1", mosquitto.port)]
