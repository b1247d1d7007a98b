"""MQTT over TLS (``mqtts://``) against a throwaway Mosquitto with a TLS listener and a
throwaway CA: the ingest service, a device and the simulator get through with the CA
(and a client certificate where the broker asks for one); a broker certificate from
another CA, or for another host name, is refused with an error that says so."""

import io
import json
import threading
import time
import uuid

import pytest
from django.core.management import call_command

from sensorgrid.ingest.mqtt import config
from sensorgrid.ingest.mqtt.service import Ingester
from sensorgrid.mqtt import Broker, make_client
from sensorgrid.telemetry.models import Sample
from tests.ingest.conftest import hours_ago
from tests.ingest.mqtt.conftest import eventually, running
from tests.support.publisher import publish
from tests.support.tls import Authority, mosquitto_tls

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture(autouse=True)
def routes(settings):
    settings.SENSORGRID_MQTT_ROUTES = ["sensorgrid/{device}/up=json"]


@pytest.fixture
def ca(tmp_path) -> Authority:
    return Authority.make(tmp_path / "pki")


@pytest.fixture
def tls_broker(tmp_path, ca):
    """Mosquitto with TLS on 127.0.0.1, its certificate for the name ``localhost`` only."""
    server = ca.issue("broker", hosts=("localhost",))
    broker = mosquitto_tls(tmp_path / "mosquitto", ca, server).start()
    yield broker
    broker.stop()


def reading(device: str, co2: float) -> tuple[str, dict]:
    return f"sensorgrid/{device}/up", {"ts": hours_ago(1).isoformat(), "values": {"co2": co2}}


def failure_of(url: str) -> str:
    """What the ingest service says when it cannot connect to ``url``."""
    options = config.options(url=url, client_id=f"test-{uuid.uuid4().hex[:8]}")
    ingester = Ingester(options, config.route_table())
    thread = threading.Thread(target=ingester.run, daemon=True)
    thread.start()
    try:
        failure = eventually(lambda: ingester.connection.failure, what="a connection failure")
        assert not ingester.connection.connected.is_set()
        assert failure.permanent  # retrying does not help: someone must fix the CA or name
        return failure.message
    finally:
        ingester.stop()
        thread.join(15)


def connects(broker: Broker, timeout: float = 3) -> bool:
    """Whether the broker lets a client in (a CONNACK of success) within ``timeout``."""
    accepted = threading.Event()

    def on_connect(client, userdata, flags, reason_code, properties):
        if not reason_code.is_failure:
            accepted.set()

    client = make_client(broker, name="device", callbacks={"on_connect": on_connect})
    try:
        client.start(wait=True)
    except OSError:
        return False
    try:
        return accepted.wait(timeout)
    finally:
        client.stop()


def test_ingest_and_a_device_over_mqtts_store_a_reading(world, settings, ca, tls_broker):
    settings.SENSORGRID_MQTT_CA_FILE = str(ca.cert)
    url = f"mqtts://localhost:{tls_broker.port}"
    with running(url):
        # A device with the CA only (no settings): paho, as docs/devices.md shows it.
        device = Broker("localhost", tls_broker.port, tls=True, ca_file=str(ca.cert))
        assert publish(device, [("sensorgrid/secretA-node/up", '{"values": {"co2": 777}}')]) == 1
        eventually(lambda: Sample.objects.filter(node=world.node_a, value=777).exists())


def test_a_client_certificate_is_sent_when_the_broker_requires_one(world, settings, tmp_path, ca):
    server = ca.issue("broker", hosts=("localhost",))
    ingest_cert = ca.issue("ingest", client=True)
    broker = mosquitto_tls(tmp_path / "strict", ca, server, require_client_cert=True).start()
    try:
        settings.SENSORGRID_MQTT_CA_FILE = str(ca.cert)
        url = f"mqtts://localhost:{broker.port}"
        # Without a certificate the broker ends the connection (after TLS 1.3's handshake).
        assert not connects(Broker("localhost", broker.port, tls=True, ca_file=str(ca.cert)))
        settings.SENSORGRID_MQTT_CERT_FILE = str(ingest_cert.cert)
        settings.SENSORGRID_MQTT_KEY_FILE = str(ingest_cert.key)
        with running(url):
            device_cert = ca.issue("device", client=True)
            device = Broker(
                "localhost",
                broker.port,
                tls=True,
                ca_file=str(ca.cert),
                cert_file=str(device_cert.cert),
                key_file=str(device_cert.key),
            )
            topic, body = reading(world.node_a.device_id, 778)
            assert publish(device, [(topic, json.dumps(body))]) == 1
            eventually(lambda: Sample.objects.filter(node=world.node_a, value=778).exists())
    finally:
        broker.stop()


def test_a_broker_certificate_of_another_ca_is_refused_with_a_clear_error(
    settings, tmp_path, tls_broker
):
    stranger = Authority.make(tmp_path / "other-pki", common_name="Someone else's CA")
    settings.SENSORGRID_MQTT_CA_FILE = str(stranger.cert)
    message = failure_of(f"mqtts://localhost:{tls_broker.port}")
    assert message.startswith(f"TLS with the MQTT broker mqtts://localhost:{tls_broker.port}")
    assert "certificate verify failed" in message and "SENSORGRID_MQTT_CA_FILE" in message


def test_a_broker_certificate_for_another_host_name_is_refused(settings, ca, tls_broker):
    # The certificate names "localhost"; 127.0.0.1 is the same machine, not that name.
    settings.SENSORGRID_MQTT_CA_FILE = str(ca.cert)
    message = failure_of(f"mqtts://127.0.0.1:{tls_broker.port}")
    assert "certificate verify failed" in message and "IP address mismatch" in message
    # A device's client (make_client) verifies the name too.
    refused: list[BaseException] = []
    client = make_client(
        Broker("127.0.0.1", tls_broker.port, tls=True, ca_file=str(ca.cert)), name="device"
    )
    try:
        client.start(wait=True)
    except OSError as exc:
        refused.append(exc)
    finally:
        client.loop_stop()
    assert refused and "mismatch" in str(refused[0])


def test_the_simulator_publishes_over_mqtts_with_a_ca_file(tmp_path, ca, tls_broker):
    out = io.StringIO()
    started = time.monotonic()
    call_command(
        "simulate",
        "--profile",
        "room",
        "--count",
        "1",
        "--rate",
        "5",
        "--duration",
        "3",
        "--broker",
        f"mqtts://localhost:{tls_broker.port}",
        "--ca-file",
        str(ca.cert),
        "--queue",
        str(tmp_path / "queue.sqlite3"),
        stdout=out,
    )
    assert time.monotonic() - started < 30
    summary = out.getvalue()
    acknowledged = int(summary.split(" acknowledged")[0].rsplit(" ", 1)[-1])
    assert acknowledged >= 5, summary
