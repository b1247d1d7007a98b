"""A device's view of the broker: connect, publish, subscribe, and what the broker said."""

import threading
import uuid

from sensorgrid.mqtt import Client, make_client, parse


class Probe:
    """One MQTT connection as ``username``; every answer of the broker is recorded."""

    def __init__(
        self, url: str, protocol: str = "5", client_id: str = "", persistent: bool = False
    ) -> None:
        self.connack = threading.Event()
        self.connect_reason: str = ""
        self.connect_failed = False
        self.acks: dict[int, tuple[str, bool]] = {}
        self.subacks: dict[int, list[tuple[str, bool]]] = {}
        self.disconnected = threading.Event()
        self.messages: list[tuple[str, bytes]] = []
        self._answer = threading.Condition()
        self.client: Client = make_client(
            parse(url),
            name="probe",
            client_id=client_id or f"probe-{uuid.uuid4().hex[:8]}",
            protocol=protocol,  # type: ignore[arg-type]
            persistent=persistent,  # clean start / clean session off
            session_expiry=3600 if persistent else 0,
            callbacks={
                "on_connect": self._on_connect,
                "on_publish": self._on_publish,
                "on_subscribe": self._on_subscribe,
                "on_disconnect": self._on_disconnect,
                "on_message": self._on_message,
            },
        )
        self.client.reconnect_delay_set(30, 30)  # one attempt per test: no retry storm

    def connect(self, timeout: float = 10) -> bool:
        """True if the broker accepted the login (CONNACK success)."""
        self.client.start(keepalive=30, wait=True)
        assert self.connack.wait(timeout), "no CONNACK"
        return not self.connect_failed

    def publish(self, topic: str, payload: bytes | str, timeout: float = 10) -> tuple[str, bool]:
        """Publish with QoS 1; the PUBACK's reason and whether it is a failure."""
        info = self.client.publish(topic, payload, qos=1)
        with self._answer:
            assert self._answer.wait_for(lambda: info.mid in self.acks, timeout), "no PUBACK"
            return self.acks[info.mid]

    def subscribe(self, topic: str, timeout: float = 10) -> tuple[str, bool]:
        """Subscribe with QoS 1; the SUBACK's reason and whether it is a failure."""
        _, mid = self.client.subscribe(topic, qos=1)
        with self._answer:
            assert self._answer.wait_for(lambda: mid in self.subacks, timeout), "no SUBACK"
            return self.subacks[mid][0]

    def close(self) -> None:
        self.client.stop()

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        self.connect_reason = str(reason_code)
        self.connect_failed = reason_code.is_failure
        self.connack.set()

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        with self._answer:
            self.acks[mid] = (str(reason_code), reason_code.is_failure)
            self._answer.notify_all()

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        with self._answer:
            self.subacks[mid] = [(str(code), code.is_failure) for code in reason_codes]
            self._answer.notify_all()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self.disconnected.set()

    def _on_message(self, client, userdata, message) -> None:
        self.messages.append((message.topic, message.payload))
