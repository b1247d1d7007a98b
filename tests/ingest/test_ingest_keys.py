import json

import pytest
from rest_framework.test import APIClient

from sensorgrid.ingest.models import IngestKey
from sensorgrid.telemetry.models import DeadLetter, Sample
from tests.ingest.conftest import hours_ago

URL = "/api/v1/ingest-keys/"


def create_key(client, organization) -> dict:
    response = client.post(URL, {"organization": organization.pk, "name": "gateway"}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def send(key: str, device: str):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    message = {"device": device, "ts": hours_ago(1).isoformat(), "values": {"co2": 700}}
    return client.post("/api/v1/ingest/", json.dumps(message), content_type="application/json")


def test_an_organization_key_writes_for_every_node_of_the_organization(world, client_for):
    key = create_key(client_for(world.alice), world.org_a)["key"]
    assert send(key, world.node_a.device_id).status_code == 200
    assert send(key, world.public_node.device_id).status_code == 200
    # Another organization's device is unknown to this key: kept as org A's letter.
    response = send(key, world.node_b.device_id)
    assert response.status_code == 200
    assert response.json()["rejected"][0]["reason"] == "unknown-device"
    assert Sample.objects.filter(node__organization=world.org_a).count() == 2
    assert not Sample.objects.filter(node=world.node_b).exists()
    assert IngestKey.objects.get().last_used_at is not None


def test_the_key_is_shown_once_and_stored_as_a_digest(world, client_for):
    client = client_for(world.alice)
    created = create_key(client, world.org_a)
    listed = client.get(URL).content.decode()
    assert created["key"] not in listed and "key" not in client.get(URL).json()["results"][0]
    assert IngestKey.objects.get().digest not in listed


# Org A is public (it has a public installation), so charlie sees it but may not write.
@pytest.mark.parametrize(("persona", "status"), [("bob", 403), ("charlie", 403), (None, 401)])
def test_only_owners_create_keys(world, client_for, persona, status):
    client = client_for(getattr(world, persona) if persona else None)
    response = client.post(URL, {"organization": world.org_a.pk, "name": "x"}, format="json")
    assert response.status_code == status
    assert not IngestKey.objects.exists()


def test_a_deleted_key_stops_working(world, client_for):
    client = client_for(world.alice)
    created = create_key(client, world.org_a)
    assert client.delete(f"{URL}{created['id']}/").status_code == 204
    assert send(created["key"], world.node_a.device_id).status_code == 401


def test_a_stranger_naming_a_private_organization_gets_400(world, client_for):
    response = client_for(world.alice).post(
        URL, {"organization": world.org_b.pk, "name": "x"}, format="json"
    )
    assert response.status_code == 400 and "organization" in response.json()


def test_strangers_do_not_see_keys(world, client_for):
    create_key(client_for(world.alice), world.org_a)
    assert client_for(world.charlie).get(URL).json()["results"] == []
    assert client_for(None).get(URL).json()["results"] == []


def test_a_dead_letter_records_the_key_that_sent_it(world, client_for):
    created = create_key(client_for(world.alice), world.org_a)
    send(created["key"], "not-registered")
    letter = DeadLetter.objects.get()
    assert (letter.organization_id, letter.credential, letter.credential_id) == (
        world.org_a.pk,
        "ingest-key",
        created["id"],
    )
