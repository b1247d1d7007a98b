"""Publish many messages with QoS 1 and wait until the broker acknowledged each.

For load generation, tests and benchmarks. At most ``window`` messages are
unacknowledged at once: MQTT packet ids are 16-bit, so a client that queues more
than 65,535 messages without acknowledgements runs out of ids.
"""

from collections import deque
from collections.abc import Iterable

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from sensorgrid.ingest.mqtt.broker import Broker


def publish(
    broker: Broker,
    messages: Iterable[tuple[str, bytes | str]],
    qos: int = 1,
    window: int = 5_000,
    client_id: str = "",
    timeout: float = 60,
) -> int:
    """Publish (topic, payload) pairs; return how many the broker acknowledged."""
    client = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id=client_id)
    client.max_inflight_messages_set(0)  # the window below bounds what is in flight
    if broker.username:
        client.username_pw_set(broker.username, broker.password)
    if broker.tls:
        client.tls_set(ca_certs=broker.ca_file, certfile=broker.cert_file, keyfile=broker.key_file)
    client.connect(broker.host, broker.port)
    client.loop_start()
    pending: deque[paho.MQTTMessageInfo] = deque()
    sent = 0
    try:
        for topic, payload in messages:
            pending.append(client.publish(topic, payload, qos=qos))
            while len(pending) > window:
                sent += _wait(pending.popleft(), timeout)
        while pending:
            sent += _wait(pending.popleft(), timeout)
    finally:
        client.disconnect()
        client.loop_stop()
    return sent


def _wait(info: paho.MQTTMessageInfo, timeout: float) -> int:
    info.wait_for_publish(timeout)
    return int(info.is_published())
