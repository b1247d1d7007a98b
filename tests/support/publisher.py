"""Publish many messages with QoS 1 and wait until the broker acknowledged each.

For load generation in tests and benchmarks (bench/ingest.py, bench/poisoned.py): no
part of the product. At most ``window`` messages are unacknowledged at once: MQTT
packet ids are 16-bit, so a client that queues more than 65,535 messages without
acknowledgements runs out of ids.
"""

from collections import deque
from collections.abc import Iterable

from sensorgrid.mqtt import Broker, MQTTMessageInfo, make_client


def publish(
    broker: Broker,
    messages: Iterable[tuple[str, bytes | str]],
    qos: int = 1,
    window: int = 5_000,
    client_id: str = "",
    timeout: float = 60,
    retain: bool = False,
) -> int:
    """Publish (topic, payload) pairs; return how many the broker acknowledged."""
    client = make_client(broker, name="publisher", client_id=client_id)
    client.max_inflight_messages_set(0)  # the window below bounds what is in flight
    client.start(keepalive=60, wait=True)
    pending: deque[MQTTMessageInfo] = deque()
    sent = 0
    try:
        for topic, payload in messages:
            pending.append(client.publish(topic, payload, qos=qos, retain=retain))
            while len(pending) > window:
                sent += _wait(pending.popleft(), timeout)
        while pending:
            sent += _wait(pending.popleft(), timeout)
    finally:
        client.stop()
    return sent


def _wait(info: MQTTMessageInfo, timeout: float) -> int:
    info.wait_for_publish(timeout)
    return int(info.is_published())
