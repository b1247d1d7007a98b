"""The paho client every SensorGrid MQTT client is (``make_client`` makes them)."""

import socket
from collections.abc import Callable
from typing import Any, Literal

import paho.mqtt.client as paho
from paho.mqtt.enums import MQTTErrorCode

from sensorgrid.mqtt.broker import Broker

Protocol = Literal["5", "3.1.1"]
#: opens the TCP connection to (host, port) within a timeout, e.g. the outbound guard's
OpenSocket = Callable[[tuple[str, int], float], socket.socket]
#: the callbacks ``make_client`` installs (each through the guard)
CALLBACKS = frozenset(
    {"on_connect", "on_connect_fail", "on_disconnect", "on_subscribe", "on_message", "on_publish"}
)


class Client(paho.Client):
    """paho, knowing its broker and session, and why its last connection attempt failed."""

    broker: Broker
    #: why the last connection attempt failed: paho calls ``on_connect_fail`` without it
    connect_error: OSError | None = None
    _session: dict[str, Any]
    _open_socket: OpenSocket | None = None

    def start(self, keepalive: int = 30, wait: bool = False) -> None:
        """Connect to the broker and start paho's network thread.

        Without ``wait`` the connection is made in the background and retried (with
        the reconnect delay) until it succeeds: a broker that is down at start is waited
        for. With ``wait`` a failure to connect raises here.
        """
        connect = self.connect if wait else self.connect_async
        connect(self.broker.host, self.broker.port, keepalive=keepalive, **self._session)
        self.loop_start()

    def stop(self) -> None:
        """Disconnect once the queued packets went out, then end the network thread."""
        self.disconnect()
        self.loop_stop()

    def reconnect(self) -> MQTTErrorCode:
        try:
            return super().reconnect()
        except OSError as exc:
            self.connect_error = exc
            raise

    def _create_socket_connection(self) -> socket.socket:
        # paho opens its socket here (private API): a client with ``open_socket`` (the
        # outbound guard) checks the resolved address at connect time and uses no proxy.
        if self._open_socket is None:
            return super()._create_socket_connection()
        if self._transport != "tcp":
            raise ValueError("only MQTT over TCP is guarded")
        return self._open_socket((self._host, self._port), self._connect_timeout)
