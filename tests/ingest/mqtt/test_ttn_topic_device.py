"""The Things Stack over MQTT, at a real Mosquitto: a message filtered to its
``uplink_message`` names no device, the topic does (issue 18, item 1)."""

from datetime import UTC, datetime, timedelta

import pytest

from sensorgrid.ingest.models import MqttRoute
from sensorgrid.inventory.models import Node
from sensorgrid.telemetry.models import DeadLetter, Reception, Sample
from tests.ingest.mqtt.conftest import eventually, running, send

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

WHEN = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0)
UPLINK_ONLY = {
    "uplink_message": {
        "f_port": 1,
        "f_cnt": 7,
        "decoded_payload": {"co2": 612},
        "rx_metadata": [{"gateway_ids": {"gateway_id": "gw-rooftop"}, "rssi": -68, "snr": 9.2}],
        "received_at": WHEN.isoformat(),
    }
}


@pytest.mark.parametrize("pattern", ["v3/weather@org-a/devices/+/up", "v3/+/devices/{device}/up"])
def test_the_topic_names_the_device_of_an_uplink_only_message(world, mosquitto, pattern):
    node = Node.objects.create(organization=world.org_a, device_id="garden-sensor")
    MqttRoute.objects.create(pattern=pattern, decoder="ttn", organization=world.org_a)
    with running(mosquitto.url):
        send(mosquitto.url, [("v3/weather@org-a/devices/garden-sensor/up", UPLINK_ONLY)])
        eventually(lambda: Sample.objects.exists(), what="the uplink stored")
    assert [(s.node_id, s.value) for s in Sample.objects.all()] == [(node.pk, 612)]
    assert Reception.objects.get().gateway_id == "gw-rooftop"
    assert not DeadLetter.objects.exists()
