"""Every built-in route, end to end: a payload published on its topic at a real
Mosquitto is decoded by the route's decoder and stored (the built-in route table)."""

import base64
from datetime import UTC, datetime, timedelta

import pytest

from sensorgrid.inventory.models import Quantity
from sensorgrid.telemetry.models import DeadLetter, Reception, Sample
from tests.ingest.mqtt.conftest import eventually, running, send

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

WHEN = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
EUI = "70B3D57ED005B89A"


def payloads(device: str) -> list[tuple[str, dict, dict[str, float]]]:
    """(topic, payload, the values it must store) for each built-in route."""
    iso = WHEN.isoformat().replace("+00:00", "Z")
    millis = int(WHEN.timestamp() * 1000)
    return [
        (f"sensorgrid/{device}/up", {"ts": iso, "values": {"co2": 611}}, {"co2": 611}),
        (
            f"kpi/{device}/air",
            {
                "clientId": device,
                "unixTimestamp": millis,
                "kpis": [{"name": "co2", "unitId": 100, "value": 612}],
            },
            {"co2": 612},
        ),
        (
            "/kpi/air/any",
            {
                "clientId": device,
                "timestamp": iso,
                "kpis": [{"name": "temperature", "unitId": 1, "value": 21.5}],
            },
            {"temperature": 21.5},
        ),
        (
            f"device/data/{device}",
            {
                "device_id": device,
                "timestamp": iso,
                "speed": 42.0,
                "location": {"lat": 52.5, "lon": 13.4},
            },
            {"speed": 42.0, "latitude": 52.5, "longitude": 13.4},
        ),
        (
            "v3/sensors@acme/devices/eui-70b3/up",
            {
                "end_device_ids": {"device_id": "eui-70b3", "dev_eui": EUI},
                "received_at": iso,
                "uplink_message": {
                    "f_port": 1,
                    "f_cnt": 7,
                    "decoded_payload": {"co2": 613},
                    "rx_metadata": [
                        {"gateway_ids": {"gateway_id": "gw-1"}, "rssi": -80, "snr": 7.5}
                    ],
                    "settings": {"frequency": "868100000"},
                },
            },
            {"co2": 613},
        ),
        (
            f"application/1/device/{EUI.lower()}/event/up",
            {
                "deviceInfo": {"devEui": EUI.lower(), "deviceName": "n"},
                "time": iso,
                "fCnt": 8,
                "fPort": 1,
                "object": {"co2": 614},
                "rxInfo": [{"gatewayId": "gw-2", "rssi": -90, "snr": 3}],
            },
            {"co2": 614},
        ),
        (
            f"application/1/device/{EUI.lower()}/rx",
            {
                "devEUI": EUI.lower(),
                "publishedAt": iso,
                "fCnt": 9,
                "fPort": 1,
                "data": base64.b64encode(b"\x00").decode(),
                "object": {"co2": 615},
                "rxInfo": [{"gatewayID": "0000000000000003", "rssi": -95, "loRaSNR": 1}],
            },
            {"co2": 615},
        ),
    ]


@pytest.mark.parametrize("index", range(7))
def test_each_builtin_route_stores_what_its_devices_publish(world, mosquitto, index):
    world.node_a.device_id = EUI if index >= 4 else world.node_a.device_id
    world.node_a.save()
    topic, payload, expected = payloads(world.node_a.device_id)[index]
    with running(mosquitto.url):
        assert send(mosquitto.url, [(topic, payload)]) == 1
        eventually(
            lambda: (
                Sample.objects.filter(node=world.node_a).count() == len(expected)
                or DeadLetter.objects.exists()
            ),
            what=f"the values of {topic}",
        )
    assert not DeadLetter.objects.exists(), DeadLetter.objects.values("reason", "detail")[0]
    stored = dict(Sample.objects.filter(node=world.node_a).values_list("quantity_id", "value"))
    keys = dict(Quantity.objects.values_list("id", "key"))
    assert {keys[q]: v for q, v in stored.items()} == expected
    assert Sample.objects.get(node=world.node_a, quantity__key=next(iter(expected))).ts == WHEN
    if index >= 4:  # network servers: the gateway that heard it is kept
        assert Reception.objects.filter(node=world.node_a).count() == 1
