"""The ingester's MQTT connection (made by ``sensorgrid.mqtt.make_client``, fast path on).

It connects with a persistent session (MQTT 5 session expiry, or
``clean_session=False`` on 3.1.1) and a stable client id, subscribes with QoS 1
on every (re)connection, reconnects with backoff, and acknowledges a message only
when the service says so (``manual_ack``): after the batch holding it committed.

Connection failures are logged with what failed, where, and what to check; paho keeps
retrying with backoff, so a broker restart is survived. With ``first_connect_timeout``
(the ``ingest`` command) ``start()`` waits for the first connection instead and raises
``BrokerUnavailable`` when the broker cannot be reached within it, or at once when the
host does not resolve or the credentials are refused: such a start is a mistake to fix,
not an outage to wait out. A persistent session that comes back new on a reconnect
(the broker lost it) is a loud warning and a metric.

Every connection has a generation number. A delivery is acknowledged only on the
connection that received it: after a reconnect the broker sends the unacknowledged
messages again, and their old packet ids may already name other messages.

A callback that raises is logged and counted, and the connection stays up (the guard
of ``sensorgrid.mqtt``): paho would let the exception end its network thread, and the
ingester would idle with nothing arriving. A message whose handling raised stays
unacknowledged; the broker sends it again after the next reconnection.
"""

import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sensorgrid.ingest.mqtt import metrics
from sensorgrid.ingest.mqtt.config import Options
from sensorgrid.mqtt import (
    Client,
    ConnectFlags,
    DisconnectFlags,
    MQTTMessage,
    Properties,
    ReasonCode,
    make_client,
)
from sensorgrid.mqtt.fastpath import BufferedClient

log = logging.getLogger(__name__)

RECONNECT_MIN_SECONDS = 1
RECONNECT_MAX_SECONDS = 30
#: CONNACK reasons no retry can fix: client id refused, bad credentials, not authorized,
#: banned, bad authentication method (3.1.1 return codes 2, 4 and 5 map onto them)
REFUSED_FOR_GOOD = {0x85, 0x86, 0x87, 0x8A, 0x8C}
#: "no such host" answers of the resolver (EAI_AGAIN, a DNS server not answering, is not)
NO_SUCH_HOST = {socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)}


class BrokerUnavailable(Exception):
    """The first connection to the broker failed; the message says what to check."""


@dataclass(frozen=True, slots=True)
class Failure:
    """Why the last connection attempt failed."""

    message: str
    #: retrying will not help (unknown host, refused credentials) until someone fixes it
    permanent: bool


@dataclass(frozen=True, slots=True)
class Received:
    """One PUBLISH as the broker handed it over, awaiting its acknowledgement."""

    topic: str
    payload: bytes
    qos: int
    mid: int
    generation: int
    received_at: datetime


class Connection:
    def __init__(
        self,
        options: Options,
        filters: Iterable[str],
        deliver: Callable[[Received], None],
        first_connect_timeout: float | None = None,
    ) -> None:
        self.options = options
        self.first_connect_timeout = first_connect_timeout
        #: set (e.g. by a signal handler) to stop waiting for the first connection
        self.abandoned = threading.Event()
        self.failure: Failure | None = None
        self._ever_connected = False
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
        self._client.start(keepalive=30)
        if self.first_connect_timeout is not None:
            self._wait_for_first_connection(self.first_connect_timeout)

    def _wait_for_first_connection(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not self.connected.wait(0.1):
            failure = self.failure
            if self.abandoned.is_set():
                return
            if failure is not None and failure.permanent:
                self.stop()
                raise BrokerUnavailable(failure.message)
            if time.monotonic() >= deadline:
                self.stop()
                reason = f" (last error: {failure.message})" if failure else ""
                raise BrokerUnavailable(
                    f"no connection to the MQTT broker {self.options.broker.display} within "
                    f"{timeout:g} s{reason}; SENSORGRID_MQTT_CONNECT_TIMEOUT sets how long "
                    "to wait at start"
                )

    def ack(self, messages: Iterable[Received]) -> int:
        """Acknowledge messages of the current connection; return how many were sent."""
        with self._generation_lock:
            current = [m for m in messages if m.qos and m.generation == self.generation]
            self._client.ack_all([m.mid for m in current if m.qos == 1])
            for message in current:  # none while subscriptions are QoS 1
                if message.qos == 2:
                    self._client.ack(message.mid, 2)
        return len(current)

    def stop(self) -> None:
        """Disconnect after the queued acknowledgements went out; keep the session."""
        self._client.stop()

    def _shared(self, topic_filter: str) -> str:
        group = self.options.shared_group
        return f"$share/{group}/{topic_filter}" if group else topic_filter

    def _make_client(self) -> BufferedClient:
        client = make_client(
            self.options.broker,
            name="ingest",
            client_id=self.options.client_id,
            protocol="5" if self.options.protocol == "5" else "3.1.1",
            persistent=True,
            session_expiry=self.options.session_expiry,
            receive_maximum=self.options.inflight,
            maximum_packet_size=self.options.max_packet_size,
            manual_ack=True,
            fast_path=True,
            reconnect_delay=(RECONNECT_MIN_SECONDS, RECONNECT_MAX_SECONDS),
            callbacks={
                "on_connect": self._on_connect,
                "on_connect_fail": self._on_connect_fail,
                "on_disconnect": self._on_disconnect,
                "on_subscribe": self._on_subscribe,
                "on_message": self._on_message,
            },
        )
        assert isinstance(client, BufferedClient)  # fast_path=True makes one
        return client

    def _on_connect(
        self,
        client: Client,
        userdata: object,
        flags: ConnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        broker = self.options.broker
        if reason_code.is_failure:
            if reason_code.value in REFUSED_FOR_GOOD:
                message = (
                    f"the MQTT broker {broker.display} refused to let "
                    f"{broker.username or 'an anonymous client'} in as "
                    f"{self.options.client_id!r} ({reason_code}): check the user and password "
                    "in SENSORGRID_MQTT_URL (or --broker; else SENSORGRID_MQTT_USERNAME and "
                    "SENSORGRID_MQTT_PASSWORD) and the broker's users and ACLs"
                )
            else:
                message = f"the MQTT broker {broker.display} refused the connection ({reason_code})"
            self._failed(Failure(message, permanent=reason_code.value in REFUSED_FOR_GOOD))
            return
        if self._ever_connected and self._persistent() and not flags.session_present:
            self._session_lost()
        self._ever_connected = True
        self.failure = None
        self._next_generation()
        self.subscribed.clear()
        self.connected.set()
        log.info(
            "connected to %s (session %s), subscribing to %s",
            broker.display,
            "resumed" if flags.session_present else "new",
            ", ".join(self.filters),
        )
        client.subscribe([(topic_filter, 1) for topic_filter in self.filters])

    def _on_connect_fail(self, client: Client, userdata: object) -> None:
        self._failed(self._describe(client.connect_error))

    def _describe(self, error: OSError | None) -> Failure:
        """What failed, where, and what to check, for an error of the TCP/TLS connect."""
        broker = self.options.broker
        where = f"{broker.host}:{broker.port}"
        if isinstance(error, socket.gaierror):
            return Failure(
                f"the MQTT broker's host {broker.host!r} does not resolve ({error.strerror}): "
                "check the host name in SENSORGRID_MQTT_URL (or --broker) and this "
                "machine's DNS",
                permanent=error.errno in NO_SUCH_HOST,
            )
        if isinstance(error, ConnectionRefusedError):
            return Failure(
                f"nothing accepts connections on {where} (connection refused): is the MQTT "
                f"broker running, and is {broker.display} the right address and port "
                "(SENSORGRID_MQTT_URL or --broker)?",
                permanent=False,
            )
        if isinstance(error, ssl.SSLError):
            return Failure(
                f"TLS with the MQTT broker {broker.display} failed ({error}): check "
                "SENSORGRID_MQTT_CA_FILE, the client certificate and that the port speaks TLS",
                permanent=isinstance(error, ssl.SSLCertVerificationError),
            )
        return Failure(
            f"cannot connect to the MQTT broker {broker.display} ({error or 'no reason given'}): "
            f"check that {where} is reachable from here (address, firewall, network)",
            permanent=False,
        )

    def _failed(self, failure: Failure) -> None:
        self.failure = failure
        log.error(
            "%s; retrying (every %d s at most)%s",
            failure.message,
            RECONNECT_MAX_SECONDS,
            "" if self._ever_connected else ", nothing is ingested until connected",
        )

    def _persistent(self) -> bool:
        return self.options.protocol != "5" or self.options.session_expiry > 0

    def _session_lost(self) -> None:
        metrics.SESSIONS_LOST.inc()
        log.warning(
            "SESSION LOST: the MQTT broker %s answered this reconnection of %r with a new "
            "session, although it was asked to keep it. Messages the broker had accepted "
            "from devices for this ingester and not yet delivered are probably lost. "
            "Likely cause: the broker restarted without persistence (mosquitto: "
            "`persistence true` and a persistence_location that survives restarts) or "
            "lost its store; or the ingester was away longer than the session expiry "
            "(SENSORGRID_MQTT_SESSION_EXPIRY=%s s, MQTT 5). See docs/ingest.md.",
            self.options.broker.display,
            self.options.client_id,
            self.options.session_expiry,
        )

    def _on_subscribe(
        self,
        client: Client,
        userdata: object,
        mid: int,
        reason_codes: list[ReasonCode],
        properties: Properties | None,
    ) -> None:
        refused = [code for code in reason_codes if code.is_failure]
        if refused:
            log.error("the broker refused subscriptions: %s", ", ".join(map(str, refused)))
        self.subscribed.set()

    def _on_disconnect(
        self,
        client: Client,
        userdata: object,
        flags: DisconnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        self.connected.clear()
        self._next_generation()
        if reason_code != 0:
            log.warning("lost the broker (%s); reconnecting", reason_code)

    def _skip_retained(self, message: MQTTMessage) -> None:
        """Acknowledge, unstored, a retained message the broker replays because the
        ingester (re)subscribed.

        The broker flags only such replays as retained (MQTT 3.1.1 3.3.1.3; with MQTT 5
        while "retain as published" is off, as here); a retained message published while
        the ingester is subscribed, or queued in its session while it was away, arrives
        unflagged and is stored as any other. A replay is a message stored when it was
        live, or one published before this deployment subscribed: storing it again would
        turn a message without its own time into a new sample at every reconnect, and
        let a device deleted or disabled since keep writing through the broker's copy.
        """
        with self._generation_lock:
            if message.qos == 1:
                self._client.ack_all([message.mid])
            elif message.qos == 2:
                self._client.ack(message.mid, 2)
        metrics.RETAINED_SKIPPED.inc()
        log.debug("skipped the retained message replayed on %r", message._topic)

    def _next_generation(self) -> None:
        with self._generation_lock:
            self.generation += 1

    def _on_message(self, client: Client, userdata: object, message: MQTTMessage) -> None:
        if message.retain:
            self._skip_retained(message)
            return
        try:
            topic = message.topic
        except UnicodeDecodeError:  # the spec forbids it; a broker may still pass it on
            topic = message._topic.decode("utf-8", "replace")
        self._deliver(
            Received(
                topic,
                message.payload,
                message.qos,
                message.mid,
                self.generation,
                datetime.now(UTC),
            )
        )
