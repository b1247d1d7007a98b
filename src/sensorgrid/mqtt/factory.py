"""``make_client``: every MQTT client of SensorGrid is made here.

The ingester, the alert channel, the simulator and the load generators all talk MQTT
through a ``Client`` made by ``make_client``: the broker's address, TLS and credentials
(a ``Broker``), the client id, a clean or persistent session, MQTT 5 or 3.1.1, and
callbacks that cannot end paho's network thread (guard.py).
"""

import ssl
from collections.abc import Callable, Mapping
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from sensorgrid.mqtt.broker import Broker, parse
from sensorgrid.mqtt.client import CALLBACKS, Client, OpenSocket, Protocol
from sensorgrid.mqtt.fastpath import BufferedClient
from sensorgrid.mqtt.guard import guarded

#: what a failed on_message means when the caller acknowledges (the guard's log line)
UNACKNOWLEDGED = (
    " (the message stays unacknowledged: the broker sends it again after the next reconnection)"
)


def make_client(
    broker: Broker | str,
    *,
    name: str,
    client_id: str = "",
    protocol: Protocol = "3.1.1",
    persistent: bool = False,
    session_expiry: int = 0,
    receive_maximum: int | None = None,
    maximum_packet_size: int | None = None,
    manual_ack: bool = False,
    fast_path: bool = False,
    reconnect_delay: tuple[float, float] | None = None,
    open_socket: OpenSocket | None = None,
    tls_context: ssl.SSLContext | None = None,
    callbacks: Mapping[str, Callable[..., None]] | None = None,
) -> Client:
    """A client for ``broker`` (a ``Broker`` or an ``mqtt[s]://`` URL); ``start()`` connects.

    ``name`` labels its callback errors (log and metric). ``persistent`` keeps the
    session over disconnections: ``clean_session=False`` on 3.1.1; on MQTT 5 a clean
    start only the first time and ``session_expiry`` seconds. ``receive_maximum`` (MQTT
    5) bounds the unacknowledged messages the broker sends, ``maximum_packet_size`` (MQTT
    5) their size: the broker drops a bigger message for this client instead of sending
    it (MQTT 3.1.1 has no such property: the broker's own limit is the guard).
    ``manual_ack``: messages are acknowledged only when the caller says so.
    ``fast_path``: a ``BufferedClient`` (fastpath.py) for a subscriber that receives
    thousands of messages a second.
    ``tls_context``: TLS with this context instead of the broker's files (an alert
    channel's CA and client certificate come as text); it must check the host name.
    """
    if isinstance(broker, str):
        broker = parse(broker)
    if callbacks and not CALLBACKS.issuperset(callbacks):
        raise ValueError(f"unknown callbacks: {', '.join(sorted(set(callbacks) - CALLBACKS))}")
    v5 = protocol == "5"
    kind: type[Client] = BufferedClient if fast_path else Client
    client = kind(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=paho.MQTTv5 if v5 else paho.MQTTv311,
        # MQTT 5 has no clean session flag: clean_start and the expiry (below) say it.
        clean_session=None if v5 else not persistent,
        manual_ack=manual_ack,
    )
    client.broker = broker
    client._session = _session(v5, persistent, session_expiry, receive_maximum)
    if v5 and maximum_packet_size is not None:
        client._session["properties"].MaximumPacketSize = maximum_packet_size
    client._open_socket = open_socket
    if broker.username or broker.password:
        client.username_pw_set(broker.username or "", broker.password)
    if tls_context is not None:
        if not tls_context.check_hostname or tls_context.verify_mode != ssl.CERT_REQUIRED:
            raise ValueError("a TLS context that does not verify the broker's name")
        client.tls_set_context(tls_context)
    elif broker.tls:
        # PROTOCOL_TLS_CLIENT: the certificate and the host name are verified.
        client.tls_set(
            ca_certs=broker.ca_file,
            certfile=broker.cert_file,
            keyfile=broker.key_file,
            tls_version=ssl.PROTOCOL_TLS_CLIENT,
        )
    if reconnect_delay is not None:
        # paho annotates ints, computes with floats: the simulator retries after 0.5 s.
        client.reconnect_delay_set(*reconnect_delay)  # type: ignore[arg-type]
    for callback, function in (callbacks or {}).items():
        why = UNACKNOWLEDGED if manual_ack and callback == "on_message" else ""
        setattr(client, callback, guarded(name, callback, function, why))
    return client


def _session(
    v5: bool, persistent: bool, session_expiry: int, receive_maximum: int | None
) -> dict[str, Any]:
    """The CONNECT arguments of an MQTT 5 session (3.1.1 says it all in clean_session)."""
    if not v5:
        return {}
    properties = Properties(PacketTypes.CONNECT)
    if persistent:
        properties.SessionExpiryInterval = session_expiry
    if receive_maximum is not None:
        # The broker sends at most this many unacknowledged messages: memory stays flat.
        properties.ReceiveMaximum = receive_maximum
    arguments: dict[str, Any] = {"properties": properties}
    if persistent:
        arguments["clean_start"] = False
    return arguments
