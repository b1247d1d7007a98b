"""Dead letters belong to the sender and replay with the sender's authority (issue 16).

Item 5: a refusal sent with organization B's credential that names A's device used to
be filed as A's dead letter, with B's payload. Item 6: replaying a forbidden-device
letter of a node credential used to store it with the whole organization's authority.
"""

import json

import pytest
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from sensorgrid.ingest.models import IngestKey
from sensorgrid.telemetry.models import DeadLetter, Sample
from tests.ingest.conftest import hours_ago


def bearer(credential: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {credential}")
    return client


def post(client: APIClient, device: str, co2: float = 650):
    message = {"device": device, "ts": hours_ago(1).isoformat(), "values": {"co2": co2}}
    return client.post("/api/v1/ingest/", json.dumps(message), content_type="application/json")


def key_of(organization) -> tuple[IngestKey, str]:
    key = IngestKey(organization=organization, name="gateway")
    secret = key.issue()
    key.save()
    return key, secret


def node_credential(node) -> str:
    credential = node.issue_credential()
    node.save(update_fields=["credential_digest"])
    return credential


@pytest.fixture
def b_names_a(world):
    """Org B's key sends a value for org A's node: the refusal is B's, with B's payload."""
    key, secret = key_of(world.org_b)
    response = post(bearer(secret), world.node_a.device_id, co2=4242)
    assert response.status_code == 200
    return DeadLetter.objects.get(), key


def test_a_refusal_is_filed_into_the_senders_organization(world, b_names_a):
    letter, key = b_names_a
    assert (letter.organization_id, letter.node_id) == (world.org_b.pk, None)
    assert (letter.credential, letter.credential_id) == ("ingest-key", key.pk)
    assert b"4242" in bytes(letter.payload)


def test_the_named_organization_never_sees_the_foreign_refusal(world, b_names_a, client_for):
    letter, _ = b_names_a
    alice = client_for(world.alice)
    assert alice.get("/api/v1/dead-letters/").json()["results"] == []
    assert alice.get(reverse("deadletter-detail", args=[letter.pk])).status_code == 404
    charlie = client_for(world.charlie).get("/api/v1/dead-letters/").json()["results"]
    assert [row["id"] for row in charlie] == [letter.pk] and "4242" in charlie[0]["payload"]


def test_replaying_the_foreign_refusal_stores_nothing_in_the_named_organization(
    world, b_names_a, client_for
):
    letter, _ = b_names_a
    response = client_for(world.charlie).post(reverse("deadletter-replay", args=[letter.pk]))
    assert response.status_code == 200 and response.json()["stored"] is False
    assert not Sample.objects.exists()


@pytest.fixture
def forbidden(world):
    """node_a's own credential sends a value for another node of its organization."""
    response = post(bearer(node_credential(world.node_a)), world.public_node.device_id, co2=999)
    assert response.status_code == 403
    letter = DeadLetter.objects.get()
    assert (letter.reason, letter.credential, letter.credential_id) == (
        "forbidden-device",
        "node",
        world.node_a.pk,
    )
    return letter


def test_replaying_a_forbidden_letter_through_the_api_stays_forbidden(world, forbidden, client_for):
    response = client_for(world.alice).post(reverse("deadletter-replay", args=[forbidden.pk]))
    assert response.status_code == 200
    body = response.json()
    assert body["stored"] is False and body["dead_letter"]["reason"] == "forbidden-device"
    assert not Sample.objects.filter(node=world.public_node).exists()


def test_replaying_a_forbidden_letter_with_the_command_stays_forbidden(world, forbidden, capsys):
    call_command("replay", "--reason", "forbidden-device")
    assert "0 stored" in capsys.readouterr().out
    forbidden.refresh_from_db()
    assert (forbidden.reason, forbidden.resolved_at) == ("forbidden-device", None)
    assert not Sample.objects.exists()


def test_a_node_credentials_letter_replays_for_its_own_node(world, client_for):
    credential = node_credential(world.node_a)
    response = post(bearer(credential), world.node_a.device_id, co2=-5)  # out of range
    assert response.json()["rejected"][0]["reason"] == "out-of-range"
    letter = DeadLetter.objects.get()
    letter.payload = json.dumps(
        {"device": world.node_a.device_id, "ts": hours_ago(1).isoformat(), "values": {"co2": 5}}
    ).encode()
    letter.save()
    response = client_for(world.alice).post(reverse("deadletter-replay", args=[letter.pk]))
    assert response.json()["stored"] is True
    assert Sample.objects.get().node_id == world.node_a.pk


def test_a_letter_from_before_credentials_were_kept_is_not_replayed_as_forbidden(world):
    # Filed by the old code into the named device's organization, sender unknown.
    message = {"device": world.public_node.device_id, "ts": hours_ago(1).isoformat()}
    letter = DeadLetter.objects.create(
        received_at=hours_ago(1),
        last_received_at=hours_ago(1),
        source="http",
        topic="/api/v1/ingest/",
        decoder="json",
        payload=json.dumps({**message, "values": {"co2": 1}}).encode(),
        reason="forbidden-device",
        organization=world.org_a,
    )
    call_command("replay", "--reason", "forbidden-device")
    letter.refresh_from_db()
    assert letter.reason == "forbidden-device" and letter.resolved_at is None
    assert "not replayed" in letter.detail
    assert not Sample.objects.exists()
