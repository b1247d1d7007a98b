"""How queued messages leave the device: MQTT (QoS 1) or HTTP.

A transport drains the offline queue in order and tells it which messages the other
side acknowledged; nothing else in the simulator touches MQTT (``sensorgrid.mqtt``) or
HTTP. ``pump`` never
blocks for long: the simulator calls it between generating messages.
"""

import logging
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable

from sensorgrid.mqtt import Broker, Client, make_client
from sensorgrid.simulator.queue import OfflineQueue

log = logging.getLogger(__name__)

RECONNECT_MIN_SECONDS = 0.5
RECONNECT_MAX_SECONDS = 10
#: while the broker cannot be reached, say so (with the queue's size) this often
OFFLINE_WARNING_SECONDS = 60


class Mqtt:
    """Publishes the queue with QoS 1 over one persistent MQTT 3.1.1 session.

    At most ``window`` messages are in flight. A message is deleted from the queue
    when its PUBACK arrives (paho's ``on_publish``). When the connection drops, paho
    keeps the in-flight messages of the session and sends them again, in order, after
    it reconnected; only then does the queue feed it more. A restarted simulator
    sends the whole queue again (the broker may then see a message twice; the ingest
    stores it once).

    While the broker cannot be reached, ``pump`` warns at once and then every
    ``warn_every`` seconds why, and how many messages wait in the queue.
    """

    def __init__(
        self,
        broker: Broker,
        client_id: str,
        window: int = 100,
        warn_every: float = OFFLINE_WARNING_SECONDS,
    ) -> None:
        self.window = window
        self.warn_every = warn_every
        self._failure: str | None = None  # why the last attempt failed; None once connected
        self._warned_at: float | None = None
        self.connected = threading.Event()
        self._acks: deque[int] = deque()
        self._in_flight: dict[int, int] = {}  # packet id → queue id
        self._last_sent = 0
        self.published = 0
        client = make_client(
            broker,
            name="simulator",
            client_id=client_id,
            persistent=True,
            reconnect_delay=(RECONNECT_MIN_SECONDS, RECONNECT_MAX_SECONDS),
            callbacks={
                "on_connect": self._on_connect,
                "on_connect_fail": self._on_connect_fail,
                "on_disconnect": self._on_disconnect,
                "on_publish": self._on_publish,
            },
        )
        client.max_inflight_messages_set(window)
        client.max_queued_messages_set(0)
        self._client = client
        self._broker = broker

    def start(self) -> None:
        self._client.start(keepalive=30)  # in the background: a broker down at start is retried

    def stop(self) -> None:
        # Our own disconnect is no lost broker: cleared first, _on_disconnect stays quiet.
        self.connected.clear()
        self._client.stop()

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    def pump(self, queue: OfflineQueue) -> None:
        """Forget what was acknowledged, then hand paho the next messages in order."""
        done = []
        while self._acks:
            queue_id = self._in_flight.pop(self._acks.popleft(), None)
            if queue_id is not None:
                done.append(queue_id)
        queue.ack(done)
        self.published += len(done)
        if not self.connected.is_set():
            self._warn_offline(queue)
            return
        if len(self._in_flight) >= self.window:
            return
        for message in queue.oldest(self._last_sent, self.window - len(self._in_flight)):
            info = self._client.publish(message.topic, message.payload, qos=1)
            self._in_flight[info.mid] = message.id
            self._last_sent = message.id

    def _warn_offline(self, queue: OfflineQueue) -> None:
        failure = self._failure
        if failure is None:  # still connecting, or not failed yet
            return
        now = time.monotonic()
        if self._warned_at is not None and now - self._warned_at < self.warn_every:
            return
        self._warned_at = now
        log.warning(
            "MQTT broker %s unreachable (%s); queueing offline: %d messages queued, "
            "%d dropped (at most %d per device, --queue-limit) in %s; they are sent "
            "when the broker is back",
            self._broker.display,
            failure,
            queue.pending(),
            queue.dropped(),
            queue.limit,
            queue.path,
        )

    def _on_connect_fail(self, client: Client, userdata: object) -> None:
        error = client.connect_error
        self._failure = str(error) if error is not None else "cannot connect"

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            self._failure = f"it refused the connection: {reason_code}"
            log.warning("the broker refused the connection: %s", reason_code)
            return
        log.info("connected to %s:%s", self._broker.host, self._broker.port)
        if self._warned_at is not None:
            log.info("the broker is back; sending the offline queue")
        self._failure = None
        self._warned_at = None
        self.connected.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        if self.connected.is_set():
            log.warning("disconnected (%s); queueing until the broker is back", reason_code)
        self.connected.clear()

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        self._acks.append(mid)  # handled by pump(), in the simulator's thread


class Http:
    """POSTs the queue in order to ``/api/v1/ingest/`` with each node's credential.

    A message the server answered (2xx, or a refusal other than 401/403/429) is
    deleted: the server keeps refused payloads as dead letters. On a network error,
    a 5xx, 401, 403 or 429 the message stays and is retried on the next pump.
    """

    RETRY = {401, 403, 408, 429}

    def __init__(self, url: str, credential: Callable[[str], str], timeout: float = 10) -> None:
        self.endpoint = url.rstrip("/") + "/api/v1/ingest/"
        self.credential = credential
        self.timeout = timeout
        self.connected = threading.Event()
        self.in_flight = 0
        self.published = 0

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def pump(self, queue: OfflineQueue, batch: int = 50) -> None:
        for message in queue.oldest(0, batch):
            if not self._post(message.device, message.payload):
                return
            queue.ack([message.id])
            self.published += 1

    def _post(self, device: str, payload: bytes) -> bool:
        request = urllib.request.Request(
            self.endpoint,
            data=payload,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {self.credential(device)}",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout):
                pass
        except urllib.error.HTTPError as exc:
            if exc.code >= 500 or exc.code in self.RETRY:
                log.warning("%s answered %s; retrying later", self.endpoint, exc.code)
                self.connected.clear()
                return False
            log.info("%s refused a message of %s: %s", self.endpoint, device, exc.code)
        except OSError as exc:
            log.warning("%s unreachable (%s); queueing", self.endpoint, exc)
            self.connected.clear()
            return False
        self.connected.set()
        return True
