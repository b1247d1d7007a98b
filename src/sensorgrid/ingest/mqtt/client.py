"""The one class that owns the MQTT connection. Nothing else touches paho.

It connects with a persistent session (MQTT 5 session expiry, or
``clean_session=False`` on 3.1.1) and a stable client id, subscribes with QoS 1
on every (re)connection, reconnects with backoff, and acknowledges a message only
when the service says so (``manual_ack``): after the batch holding it committed.

Every connection has a generation number. A delivery is acknowledged only on the
connection that received it: after a reconnect the broker sends the unacknowledged
messages again, and their old packet ids may already name other messages.
"""

import logging
import ssl
import struct
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from sensorgrid.ingest.mqtt.config import Options

log = logging.getLogger(__name__)

RECONNECT_MIN_SECONDS = 1
RECONNECT_MAX_SECONDS = 30
READ_SIZE = 65_536
_PUBACK = struct.Struct("!BBH")
#: packets handled from the read buffer before paho gets to write (acks) and ping again
PACKETS_PER_READ = 2_000


class _BufferedClient(paho.Client):
    """paho with buffered socket reads.

    paho reads each packet with at least three ``recv`` calls (command byte, length
    bytes, body), handles one packet per ``select`` and matches every topic against
    its callback registry: at thousands of messages a second that was most of its
    time (docs/performance.md). Here one ``recv`` takes what the socket holds,
    paho's reads are served from it, and ``loop_read`` goes on while buffered bytes
    remain (a buffered packet would not wake ``select``).
    The overridden methods are private paho API: pyproject pins the minor version.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._inbox = b""
        self._inbox_at = 0
        self._read_ahead = True

    def _sock_recv(self, bufsize: int) -> bytes:
        if self._inbox_at >= len(self._inbox):
            self._inbox = super()._sock_recv(READ_SIZE if self._read_ahead else bufsize)
            self._inbox_at = 0
        start = self._inbox_at
        self._inbox_at = min(start + bufsize, len(self._inbox))
        return self._inbox[start : self._inbox_at]

    def loop_read(self, max_packets: int = 1) -> paho.MQTTErrorCode:
        """Handle every buffered packet: none may wait in the buffer for the next select.

        After PACKETS_PER_READ packets it stops reading ahead and only completes the
        packet in progress, so that acknowledgements and pings get their turn.
        """
        self._read_ahead = True
        try:
            result = super().loop_read(max_packets)
            handled = 1
            while result == paho.MQTT_ERR_SUCCESS and self._inbox_at < len(self._inbox):
                self._read_ahead = handled < PACKETS_PER_READ
                result = super().loop_read(max_packets)
                handled += 1
            return result
        finally:
            self._read_ahead = True

    def _handle_publish(self) -> paho.MQTTErrorCode:
        """A QoS 0/1 PUBLISH without properties, decoded without paho's overhead.

        paho parses MQTT 5 properties into a new ``Properties`` object for every
        PUBLISH, even when there are none (what a broker forwards from devices): the
        largest single cost of its thread. Anything else (QoS 2, properties such as a
        topic alias, a malformed packet) is paho's to decode.
        """
        command = self._in_packet["command"]
        packet = self._in_packet["packet"]
        qos = (command & 0x06) >> 1
        at = 2 + int.from_bytes(packet[:2], "big")  # after the topic
        topic = packet[2:at]
        if qos:
            mid = int.from_bytes(packet[at : at + 2], "big")
            at += 2
        else:
            mid = 0
        if self._protocol == paho.MQTTv5:
            at += 1  # the properties' length: 0
            if len(packet) < at or packet[at - 1] != 0:
                return super()._handle_publish()
        if qos == 2 or not topic or len(packet) < at:
            return super()._handle_publish()
        message = paho.MQTTMessage(mid, bytes(topic))
        message.dup = bool(command & 0x08)
        message.qos = qos
        message.retain = bool(command & 0x01)
        message.payload = bytes(packet[at:])
        message.timestamp = paho.time_func()
        self._handle_on_message(message)
        if qos == 1 and not self._manual_ack:
            return self._send_puback(mid)
        return paho.MQTTErrorCode.MQTT_ERR_SUCCESS

    def ack_all(self, mids: list[int]) -> None:
        """PUBACK (QoS 1) every message id, queued as one write.

        paho queues each acknowledgement separately and wakes its network thread
        through a socket pair for each: a system call per message.
        """
        if mids:
            packets = b"".join([_PUBACK.pack(paho.PUBACK, 2, mid) for mid in mids])
            self._packet_queue(paho.PUBACK, packets, 0, 1)

    def _handle_on_message(self, message: paho.MQTTMessage) -> None:
        # Routing is SensorGrid's (routes.py): no per-filter callbacks are registered,
        # so paho's topic matcher, run for every message, is skipped.
        self.on_message(self, self._userdata, message)

    def reconnect(self) -> paho.MQTTErrorCode:
        self._inbox, self._inbox_at = b"", 0  # bytes of the old connection mean nothing now
        return super().reconnect()


@dataclass(frozen=True, slots=True)
class Delivery:
    """One message as the broker handed it over."""

    topic: str
    payload: bytes
    qos: int
    mid: int
    generation: int
    received_at: datetime


class Connection:
    def __init__(
        self, options: Options, filters: Iterable[str], deliver: Callable[[Delivery], None]
    ) -> None:
        self.options = options
        self.filters = [self._shared(f) for f in filters]
        self._deliver = deliver
        self.generation = 0
        self._generation_lock = threading.Lock()
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self._client = self._make_client()

    def start(self) -> None:
        """Connect in the background; paho's thread reconnects until ``stop``."""
        broker = self.options.broker
        log.info("connecting to %s as %s", broker.display, self.options.client_id)
        self._client.connect_async(
            broker.host, broker.port, keepalive=30, **self._connect_arguments()
        )
        self._client.loop_start()

    def ack(self, deliveries: Iterable[Delivery]) -> int:
        """Acknowledge deliveries of the current connection; return how many were sent."""
        with self._generation_lock:
            current = [d for d in deliveries if d.qos and d.generation == self.generation]
            self._client.ack_all([d.mid for d in current if d.qos == 1])
            for delivery in current:  # none while subscriptions are QoS 1
                if delivery.qos == 2:
                    self._client.ack(delivery.mid, 2)
        return len(current)

    def stop(self) -> None:
        """Disconnect after the queued acknowledgements went out; keep the session."""
        self._client.disconnect()
        self._client.loop_stop()

    def _shared(self, topic_filter: str) -> str:
        group = self.options.shared_group
        return f"$share/{group}/{topic_filter}" if group else topic_filter

    def _make_client(self) -> paho.Client:
        v5 = self.options.protocol == "5"
        client = _BufferedClient(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=self.options.client_id,
            protocol=paho.MQTTv5 if v5 else paho.MQTTv311,
            clean_session=None if v5 else False,
            manual_ack=True,
        )
        broker = self.options.broker
        if broker.username:
            client.username_pw_set(broker.username, broker.password)
        if broker.tls:
            client.tls_set(
                ca_certs=broker.ca_file,
                certfile=broker.cert_file,
                keyfile=broker.key_file,
                tls_version=ssl.PROTOCOL_TLS_CLIENT,
            )
        client.reconnect_delay_set(RECONNECT_MIN_SECONDS, RECONNECT_MAX_SECONDS)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        return client

    def _connect_arguments(self) -> dict:
        if self.options.protocol != "5":
            return {}
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = self.options.session_expiry
        # The broker sends at most this many unacknowledged messages: memory stays flat.
        properties.ReceiveMaximum = self.options.inflight
        return {"clean_start": False, "properties": properties}

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.error("broker refused the connection: %s", reason_code)
            return
        self._next_generation()
        self.subscribed.clear()
        self.connected.set()
        log.info(
            "connected to %s (session %s), subscribing to %s",
            self.options.broker.display,
            "resumed" if flags.session_present else "new",
            ", ".join(self.filters),
        )
        client.subscribe([(topic_filter, 1) for topic_filter in self.filters])

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        refused = [code for code in reason_codes if code.is_failure]
        if refused:
            log.error("the broker refused subscriptions: %s", ", ".join(map(str, refused)))
        self.subscribed.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self.connected.clear()
        self._next_generation()
        if reason_code != 0:
            log.warning("lost the broker (%s); reconnecting", reason_code)

    def _next_generation(self) -> None:
        with self._generation_lock:
            self.generation += 1

    def _on_message(self, client, userdata, message: paho.MQTTMessage) -> None:
        try:
            topic = message.topic
        except UnicodeDecodeError:  # the spec forbids it; a broker may still pass it on
            topic = message._topic.decode("utf-8", "replace")
        self._deliver(
            Delivery(
                topic,
                message.payload,
                message.qos,
                message.mid,
                self.generation,
                datetime.now(UTC),
            )
        )
