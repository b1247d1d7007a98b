"""MQTT publish to an external broker (QoS 1): ``{"url": "mqtt[s]://[user:pass@]host[:port]",
"topic": "…"}``.

The JSON payload carries ``idempotency_key`` (also an MQTT 5 user property is not
used: brokers of version 3.1.1 are common), so a subscriber can drop a repeat.
One short-lived connection per delivery: simple and robust, not fast; forwarders
batch samples so this stays cheap.
"""

import json
from urllib.parse import unquote, urlsplit

from django.conf import settings

from sensorgrid.alerts.channels import SendError


def validate_config(config: dict) -> dict:
    url, topic = config.get("url"), config.get("topic")
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise ValueError("url: an mqtt:// or mqtts:// address is required.")
    if not isinstance(topic, str) or not topic or any(c in topic for c in "+#\x00"):
        raise ValueError("topic: a topic without wildcards is required.")
    unknown = set(config) - {"url", "topic"}
    if unknown:
        raise ValueError(f"{', '.join(sorted(unknown))}: unknown; MQTT takes url and topic.")
    return {"url": url, "topic": topic}


def send(channel, delivery) -> None:
    import paho.mqtt.client as mqtt

    parts = urlsplit(channel.config["url"])
    timeout = float(getattr(settings, "SENSORGRID_ALERTS_MQTT_TIMEOUT", 10))
    body = json.dumps(
        {**delivery.payload, "idempotency_key": str(delivery.idempotency_key)},
        separators=(",", ":"),
    ).encode()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    if parts.username:
        client.username_pw_set(unquote(parts.username), unquote(parts.password or ""))
    if parts.scheme == "mqtts":
        client.tls_set()
    try:
        client.connect(parts.hostname, parts.port or (8883 if parts.scheme == "mqtts" else 1883))
        client.loop_start()
        info = client.publish(channel.config["topic"], body, qos=1)
        info.wait_for_publish(timeout)
        if not info.is_published():
            raise SendError(f"the broker did not acknowledge within {timeout:g} s")
    except SendError:
        raise
    except Exception as exc:  # refused, DNS, TLS, not authorised
        raise SendError(f"{type(exc).__name__}: {exc}") from None
    finally:
        client.loop_stop()
        client.disconnect()
