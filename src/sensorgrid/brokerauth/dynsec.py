"""A client of Mosquitto's dynamic security plugin: its control API over MQTT.

The plugin takes JSON requests ``{"commands": [...]}`` published to
``$CONTROL/dynamic-security/v1`` and answers each request with one message on
``$CONTROL/dynamic-security/v1/response`` (to the requesting client only), holding one
response per command, in order: ``{"command": ..., "data": {...}}`` or
``{"command": ..., "error": "Client not found"}``. Commands of one request are applied one
after the other; a failed command does not stop the ones after it.

Usage (one admin connection, requests one at a time; the broker from settings)::

    with Dynsec.from_settings() as dynsec:
        dynsec.execute([{"command": "createRole", "rolename": "node-7", "acls": [...]}])
        clients = dynsec.run({"command": "listClients", "verbose": True, "count": -1})

``execute`` sends many commands in requests of ``batch`` commands (a round trip per
request, not per command: 10,000 nodes sync in seconds, bench/broker_sync.py) and raises
``DynsecError`` for the first failed command unless told which errors to accept.

The admin account: ``SENSORGRID_MQTT_ADMIN_USERNAME`` / ``SENSORGRID_MQTT_ADMIN_PASSWORD``
(or their ``_FILE`` variants); the broker: ``SENSORGRID_MQTT_ADMIN_URL``, else
``SENSORGRID_MQTT_URL`` (its user replaced by the admin's), with the TLS files of
``SENSORGRID_MQTT_CA_FILE`` & co. (docs/deployment.md, "Broker authentication").
"""

import dataclasses
import json
import queue
import threading
import uuid
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from django.conf import settings

from sensorgrid.env import ConfigurationError
from sensorgrid.ingest.mqtt import broker as platform_broker
from sensorgrid.mqtt import Broker, Client, make_client

TOPIC = "$CONTROL/dynamic-security/v1"
RESPONSE_TOPIC = f"{TOPIC}/response"

Command = dict[str, Any]


class DynsecError(Exception):
    """The broker refused a command, or could not be asked.

    ``command`` is the command (without its password) and ``error`` the broker's word,
    e.g. ``"Client not found"``; both empty when the broker could not be reached.
    """

    def __init__(self, message: str, command: Command | None = None, error: str = "") -> None:
        super().__init__(message)
        self.command = command or {}
        self.error = error


@dataclasses.dataclass(frozen=True, slots=True)
class Response:
    command: Command
    data: dict[str, Any]
    error: str  # "" when the command succeeded


def admin_broker() -> Broker:
    """Where and as whom to administer the broker, from settings."""
    username = settings.SENSORGRID_MQTT_ADMIN_USERNAME
    password = settings.SENSORGRID_MQTT_ADMIN_PASSWORD
    url = settings.SENSORGRID_MQTT_ADMIN_URL
    broker = platform_broker.from_settings(url)
    if username:
        broker = dataclasses.replace(broker, username=username, password=password or None)
    elif not url:
        raise ConfigurationError(
            "set SENSORGRID_MQTT_ADMIN_USERNAME and SENSORGRID_MQTT_ADMIN_PASSWORD (or "
            "SENSORGRID_MQTT_ADMIN_URL): the dynamic security plugin's admin account"
        )
    return broker


def describe(command: Command) -> str:
    """The command for a message or a log: its name and target, never a password."""
    shown = {key: value for key, value in command.items() if key not in ("password", "acls")}
    return json.dumps(shown, sort_keys=True)


class Dynsec:
    """One admin connection to the plugin (MQTT 5, clean session); close it when done."""

    def __init__(self, broker: Broker, timeout: float = 30.0) -> None:
        self.broker = broker
        self.timeout = timeout
        self._responses: queue.Queue[bytes] = queue.Queue()
        self._connected = threading.Event()
        self._subscribed = threading.Event()
        self._connect_reason = ""
        self._lock = threading.Lock()
        self._client: Client | None = None

    @classmethod
    def from_settings(cls, timeout: float = 30.0) -> "Dynsec":
        return cls(admin_broker(), timeout)

    def __enter__(self) -> "Dynsec":
        self.connect()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def connect(self) -> None:
        """Log in as the admin and subscribe to the responses; DynsecError if refused."""
        client = make_client(
            self.broker,
            name="dynsec",
            client_id=f"sensorgrid-dynsec-{uuid.uuid4().hex[:12]}",
            protocol="5",
            callbacks={
                "on_connect": self._on_connect,
                "on_subscribe": self._on_subscribe,
                "on_message": self._on_message,
            },
        )
        try:
            client.start(keepalive=60, wait=True)
        except OSError as exc:
            raise DynsecError(f"cannot reach the broker {self.broker.display}: {exc}") from exc
        self._client = client
        if not self._connected.wait(self.timeout) or self._connect_reason:
            self.close()
            why = self._connect_reason or f"no CONNACK within {self.timeout:g}s"
            raise DynsecError(f"the broker {self.broker.display} refused the admin login: {why}")
        client.subscribe(RESPONSE_TOPIC, qos=1)
        if not self._subscribed.wait(self.timeout):
            self.close()
            raise DynsecError(f"the broker {self.broker.display} did not confirm the subscription")

    def close(self) -> None:
        if self._client is not None:
            self._client.stop()
            self._client = None

    def run(self, command: Command) -> dict[str, Any]:
        """One command; its ``data`` (``{}`` for commands that return none)."""
        return self.execute([command])[0].data

    def execute(
        self, commands: Iterable[Command], batch: int = 1000, accept: Collection[str] = ()
    ) -> list[Response]:
        """Send ``commands`` in requests of ``batch``; their responses, in order.

        The first failed command whose error is not in ``accept`` (e.g. ``"Client not
        found"`` when deleting) raises DynsecError; the commands before it are applied.
        """
        responses: list[Response] = []
        pending: list[Command] = []
        for command in commands:
            pending.append(command)
            if len(pending) >= batch:
                responses += self._request(pending, accept)
                pending = []
        if pending:
            responses += self._request(pending, accept)
        return responses

    def _request(self, commands: Sequence[Command], accept: Collection[str]) -> list[Response]:
        if self._client is None:
            raise DynsecError("not connected: use Dynsec as a context manager or connect()")
        tag = uuid.uuid4().hex
        tagged = [dict(command, correlationData=f"{tag}:{i}") for i, command in enumerate(commands)]
        with self._lock:
            self._client.publish(TOPIC, json.dumps({"commands": tagged}), qos=1)
            answers = self._await(tag)
        if len(answers) != len(commands):
            raise DynsecError(
                f"the broker answered {len(answers)} of {len(commands)} commands (is the "
                "dynamic security plugin loaded?)"
            )
        responses = []
        for command, answer in zip(commands, answers, strict=True):
            error = str(answer.get("error") or "")
            if error and error not in accept:
                raise DynsecError(
                    f"{describe(command)}: the broker says {error!r}", command=command, error=error
                )
            responses.append(Response(command, answer.get("data") or {}, error))
        return responses

    def _await(self, tag: str) -> list[dict[str, Any]]:
        while True:
            try:
                payload = self._responses.get(timeout=self.timeout)
            except queue.Empty:
                raise DynsecError(
                    f"no answer from the dynamic security plugin of {self.broker.display} "
                    f"within {self.timeout:g}s (is it loaded? is the admin's role intact?)"
                ) from None
            try:
                answers = json.loads(payload)["responses"]
            except (ValueError, KeyError, TypeError):
                continue
            if answers and str(answers[0].get("correlationData", "")).startswith(f"{tag}:"):
                return list(answers)
            # an answer to an earlier request that timed out: not ours

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            self._connect_reason = str(reason_code)
        self._connected.set()

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        self._subscribed.set()

    def _on_message(self, client, userdata, message) -> None:
        if message.topic == RESPONSE_TOPIC:
            self._responses.put(message.payload)
