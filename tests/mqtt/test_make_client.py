"""What ``make_client`` promises, against a real Mosquitto: sessions, credentials, the guard."""

import logging
import threading
import uuid

import pytest
from prometheus_client import REGISTRY

from sensorgrid.mqtt import Broker, make_client, parse


def errors(client: str, callback: str) -> float:
    value = REGISTRY.get_sample_value(
        "sensorgrid_ingest_callback_errors_total", {"client": client, "callback": callback}
    )
    return value or 0.0


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
def test_a_persistent_session_is_resumed_and_a_clean_one_is_not(mosquitto, protocol):
    client_id = f"session-{uuid.uuid4().hex[:8]}"
    present: list[bool] = []

    def connect_once(persistent: bool) -> None:
        connected = threading.Event()

        def on_connect(client, userdata, flags, reason_code, properties):
            present.append(flags.session_present)
            connected.set()

        client = make_client(
            mosquitto.url,
            name="test",
            client_id=client_id,
            protocol=protocol,
            persistent=persistent,
            session_expiry=60,
            callbacks={"on_connect": on_connect},
        )
        client.start(wait=True)
        try:
            assert connected.wait(10)
        finally:
            client.stop()

    connect_once(persistent=True)
    connect_once(persistent=True)
    connect_once(persistent=False)
    assert present == [False, True, False]


def test_a_raising_callback_is_logged_and_counted_and_the_client_carries_on(mosquitto, caplog):
    def on_connect(*args) -> None:
        raise RuntimeError("a bug in on_connect")

    before = errors("test", "on_connect")
    client = make_client(mosquitto.url, name="test", callbacks={"on_connect": on_connect})
    with caplog.at_level(logging.ERROR, logger="sensorgrid.mqtt.guard"):
        client.start(wait=True)
        try:
            # paho's thread lived on: the PUBLISH after the failed callback is acknowledged.
            info = client.publish("guard/test", b"after the bug", qos=1)
            info.wait_for_publish(10)
            assert info.is_published()
        finally:
            client.stop()
    assert errors("test", "on_connect") == before + 1
    assert "test MQTT client's on_connect callback failed; the connection stays up" in caplog.text
    assert "RuntimeError: a bug in on_connect" in caplog.text


def test_an_unknown_callback_is_refused_when_the_client_is_made():
    with pytest.raises(ValueError, match="on_mesage"):
        make_client("mqtt://127.0.0.1", name="test", callbacks={"on_mesage": print})


def test_a_url_gives_the_broker_and_credentials():
    assert parse("mqtts://ann:s%40cret@broker.example") == Broker(
        "broker.example", 8883, tls=True, username="ann", password="s@cret"
    )
    client = make_client("mqtt://ann:pw@127.0.0.1:1884", name="test")
    assert (client.broker.host, client.broker.port) == ("127.0.0.1", 1884)
    assert (client._username, client._password) == (b"ann", b"pw")
