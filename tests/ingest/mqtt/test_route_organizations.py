"""MQTT routes bound to an organization, at a real Mosquitto (issue 16, item 4).

Org B registered org A's DevEUI in the other case: A's uplinks on the MQTT topic of
A's The Things Stack application used to land in B's node.
"""

from datetime import UTC, datetime, timedelta

import pytest

from sensorgrid.ingest.models import MqttRoute
from sensorgrid.inventory.models import Node
from sensorgrid.telemetry.models import DeadLetter, Sample
from tests.ingest.mqtt.conftest import eventually, running, send

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

EUI = "70B3D57ED005B89A"
WHEN = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0)


def uplink(co2: float) -> dict:
    return {
        "end_device_ids": {"device_id": "eui-70b3d57ed005b89a", "dev_eui": EUI},
        "received_at": WHEN.isoformat(),
        "uplink_message": {"f_port": 1, "decoded_payload": {"co2": co2}},
    }


@pytest.fixture
def squatted(world):
    owner = Node.objects.create(organization=world.org_a, device_id=EUI.lower())
    squatter = Node.objects.create(organization=world.org_b, device_id=EUI)
    return owner, squatter


def test_a_bound_route_stores_its_organizations_uplinks_in_its_own_node(world, mosquitto, squatted):
    owner, squatter = squatted
    route = MqttRoute.objects.create(
        pattern="v3/weather@org-a/devices/+/up", decoder="ttn", organization=world.org_a
    )
    with running(mosquitto.url):
        send(mosquitto.url, [("v3/weather@org-a/devices/eui-70b3d57ed005b89a/up", uplink(612))])
        eventually(lambda: Sample.objects.exists(), what="the uplink stored")
    assert {(s.node_id, s.value) for s in Sample.objects.all()} == {(owner.pk, 612)}
    assert not Sample.objects.filter(node=squatter).exists()
    assert not DeadLetter.objects.exists()
    assert str(route).endswith("(Org A)")


def test_a_bound_routes_dead_letters_are_its_organizations(world, mosquitto):
    route = MqttRoute.objects.create(
        pattern="v3/weather@org-a/devices/+/up", decoder="ttn", organization=world.org_a
    )
    with running(mosquitto.url):
        send(mosquitto.url, [("v3/weather@org-a/devices/x/up", uplink(1))])
        eventually(lambda: DeadLetter.objects.exists(), what="the dead letter")
    letter = DeadLetter.objects.get()
    assert (letter.reason, letter.organization_id) == ("unknown-device", world.org_a.pk)
    assert (letter.credential, letter.credential_id) == ("mqtt-route", route.pk)


def test_an_unbound_route_refuses_an_ambiguous_dev_eui_instead_of_guessing(
    world, mosquitto, squatted
):
    with running(mosquitto.url):  # the built-in v3/+/devices/+/up route: no organization
        send(mosquitto.url, [("v3/weather@org-a/devices/eui-70b3d57ed005b89a/up", uplink(7))])
        eventually(lambda: DeadLetter.objects.exists(), what="the dead letter")
    letter = DeadLetter.objects.get()
    assert (letter.reason, letter.organization_id) == ("ambiguous-device", None)
    assert not Sample.objects.exists()
