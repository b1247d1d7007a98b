"""paho with a fast path for what the ingester receives: plain QoS 0/1 PUBLISH packets.

``make_client(fast_path=True)`` makes one. Everything here overrides or calls private
paho API, so pyproject pins paho's minor version and tests/mqtt/test_paho_contract.py
fails when a name disappears or the fast path is no longer taken against a real broker.
"""

import struct
from typing import Any

import paho.mqtt.client as paho

from sensorgrid.mqtt.client import Client

READ_SIZE = 65_536
_PUBACK = struct.Struct("!BBH")
#: packets handled from the read buffer before paho gets to write (acks) and ping again
PACKETS_PER_READ = 2_000


class BufferedClient(Client):
    """paho with buffered socket reads.

    paho reads each packet with at least three ``recv`` calls (command byte, length
    bytes, body), handles one packet per ``select`` and matches every topic against
    its callback registry: at thousands of messages a second that was most of its
    time (docs/performance.md). Here one ``recv`` takes what the socket holds,
    paho's reads are served from it, and ``loop_read`` goes on while buffered bytes
    remain (a buffered packet would not wake ``select``).

    Three counters show that the fast path is taken (the contract test reads them;
    one is incremented per socket read or per message, which costs nothing measurable).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._inbox = b""
        self._inbox_at = 0
        self._read_ahead = True
        #: reads from the socket (one takes what it holds)
        self.socket_reads = 0
        #: PUBLISH packets decoded here, and those left to paho
        self.decoded_here = 0
        self.decoded_by_paho = 0

    def _sock_recv(self, bufsize: int) -> bytes:
        if self._inbox_at >= len(self._inbox):
            self._inbox = super()._sock_recv(READ_SIZE if self._read_ahead else bufsize)
            self._inbox_at = 0
            self.socket_reads += 1
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
                self.decoded_by_paho += 1
                return super()._handle_publish()
        if qos == 2 or not topic or len(packet) < at:
            self.decoded_by_paho += 1
            return super()._handle_publish()
        self.decoded_here += 1
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
        # Routing is the subscriber's (the ingester's routes.py): no per-filter callbacks
        # are registered, so paho's topic matcher, run for every message, is skipped.
        self.on_message(self, self._userdata, message)  # type: ignore[misc]  # set at start

    def reconnect(self) -> paho.MQTTErrorCode:
        self._inbox, self._inbox_at = b"", 0  # bytes of the old connection mean nothing now
        return super().reconnect()
