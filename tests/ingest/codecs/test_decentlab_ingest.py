"""Decentlab frames through the LoRaWAN path: a The Things Stack webhook carrying the
vendor's example frame becomes samples of the node, in the quantities' units; a frame
the product cannot have becomes a dead letter that says why."""

import json

import pytest
from rest_framework.test import APIClient

from sensorgrid.ingest.models import IngestKey
from sensorgrid.inventory.models import Node, NodeModel
from sensorgrid.telemetry.models import DeadLetter, Reception, Sample
from tests import factories as f
from tests.ingest.test_lorawan import DEV_EUI, ttn_uplink

# DL-IAM/DL-IAM.py's first example: every sensor group.
IAM_FRAME = bytes.fromhex("020bbd007f0b926a515d48bc4e0262006981c7000093d4000b0111")


@pytest.fixture
def network_server(world) -> APIClient:
    """A client posting with org A's ingest key, as a network server's webhook does."""
    holder = IngestKey(organization=world.org_a, name="network server")
    key = holder.issue()
    holder.save()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.fixture
def iam_node(world) -> Node:
    model = f.NodeModelFactory(
        organization=world.org_a, manufacturer="Decentlab", name="DL-IAM", codec="decentlab_dl_iam"
    )
    return f.NodeFactory(organization=world.org_a, device_id=DEV_EUI, model=model)


def webhook(client: APIClient, frame: bytes):
    # The Things Stack's payload formatter is off: the frame comes undecoded.
    document = ttn_uplink(decoded=None, frame=frame)
    return client.post("/api/v1/ingest/ttn/", json.dumps(document), content_type="application/json")


def test_a_dl_iam_uplink_is_stored_as_samples_of_its_node(network_server, iam_node):
    response = webhook(network_server, IAM_FRAME)
    assert response.status_code == 200, response.content
    assert response.json() == {"accepted": 8, "duplicates": 0, "rejected": []}
    stored = {
        s.quantity.key: (s.value, s.quantity.unit)
        for s in Sample.objects.filter(node=iam_node).select_related("quantity")
    }
    assert stored == {
        "battery": (pytest.approx(2.962), "V"),
        "temperature": (pytest.approx(27.6783, abs=1e-4), "°C"),
        "humidity": (pytest.approx(36.4385, abs=1e-4), "%"),
        "pressure": (pytest.approx(964.12), "hPa"),
        "illuminance": (pytest.approx(678.7651, abs=1e-4), "lx"),
        "co2": (455.0, "ppm"),
        "motion_count": (11.0, "events"),
        "tvoc": (273.0, "ppb"),
    }
    assert Reception.objects.filter(node=iam_node).count() == 2
    assert not DeadLetter.objects.exists()


def test_a_frame_with_flags_the_product_lacks_is_a_dead_letter_saying_why(network_server, iam_node):
    # A DL-ATM41 frame has flags 0x0003 and 18 words; read as DL-IAM its words do not
    # fit the battery and temperature/humidity groups the flags select.
    atm41 = bytes.fromhex(
        "02035a0003800a8000800080008009812b8014810880b4a57c820c810980027fe88056800880040bf5"
    )
    response = webhook(network_server, atm41)
    assert response.status_code == 200, response.content
    [rejection] = response.json()["rejected"]
    assert rejection["reason"] == "malformed"
    letter = DeadLetter.objects.get()
    assert letter.node_id == iam_node.pk
    assert "byte 11: 30 byte(s) left after the sensor groups the flags 0x0003" in letter.detail
    assert "is this a DL-IAM frame?" in letter.detail
    assert not Sample.objects.exists()
    assert Reception.objects.count() == 2  # the gateways did hear the node


def test_another_protocol_version_is_a_dead_letter(network_server, iam_node):
    response = webhook(network_server, b"\x03" + IAM_FRAME[1:])
    assert response.json()["accepted"] == 0
    assert "Decentlab protocol version 3, expected 2" in DeadLetter.objects.get().detail


def test_the_issues_model_is_accepted_and_its_frames_are_stored(world, client_for, network_server):
    # Issue 18: a model with codec decentlab_dl_iam was accepted, then every frame failed.
    response = client_for(world.alice).post(
        "/api/v1/node-models/",
        {
            "organization": world.org_a.pk,
            "manufacturer": "Decentlab",
            "name": "DL-IAM",
            "protocol": "lorawan",
            "codec": "decentlab_dl_iam",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    model = NodeModel.objects.get(pk=response.json()["id"])
    node = f.NodeFactory(organization=world.org_a, device_id=DEV_EUI, model=model)
    assert webhook(network_server, IAM_FRAME).json()["accepted"] == 8
    assert Sample.objects.filter(node=node, quantity__key="co2").get().value == 455.0
