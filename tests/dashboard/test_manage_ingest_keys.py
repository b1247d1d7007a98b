"""Ingest keys in the dashboard (Django test client): owners create one (its secret
shown once, not cached, and a gateway can send with it for any node of the
organization) and revoke it (it stops working); inspectors see no key page or form
and are refused; strangers get the 404."""

import json
import re

import pytest
from django.test import Client

from sensorgrid.ingest.models import IngestKey

pytestmark = pytest.mark.django_db


def body(response) -> str:
    return response.content.decode()


def secret_in(response) -> str:
    match = re.search(
        r'id="secret" class="secret" type="text" readonly value="([^"]+)"', body(response)
    )
    assert match, "no key on the page"
    return match.group(1)


def ingest(key: str, device_id: str) -> tuple[int, int]:
    """What the gateway notices: whether SensorGrid takes the value (HTTP status), and
    how many values it accepted (the answer's ``accepted``; -1 without one)."""
    response = Client().post(
        "/api/v1/ingest/",
        data=json.dumps({"device": device_id, "values": {"co2": 600}}),
        content_type="application/json",
        headers={"authorization": f"Bearer {key}"},
    )
    return response.status_code, response.json().get("accepted", -1)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_alice_creates_a_key_sees_it_once_and_a_gateway_sends_with_it(world):
    alice = signed_in(world.alice)
    response = alice.post(
        f"/organizations/{world.org_a.pk}/ingest-keys/new/", {"key-name": "TTN webhook"}
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    key = secret_in(response)
    assert key.startswith("sgk_") and 'data-copy="secret"' in body(response)
    assert "dashboard/copy.js" in body(response)
    stored = IngestKey.objects.get(name="TTN webhook")
    assert stored.organization == world.org_a and key not in stored.digest
    page = body(alice.get(f"/organizations/{world.org_a.pk}/"))
    assert "TTN webhook" in page and key not in page and "never" in page
    assert ingest(key, world.node_a.device_id) == (200, 1)
    assert ingest(key, world.node_b.device_id) == (200, 0)  # org B's node: not its key


def test_alice_revokes_a_key_and_it_stops_working(world):
    alice = signed_in(world.alice)
    key = secret_in(
        alice.post(f"/organizations/{world.org_a.pk}/ingest-keys/new/", {"key-name": "Gateway"})
    )
    stored = IngestKey.objects.get(name="Gateway")
    response = alice.post(f"/ingest-keys/{stored.pk}/revoke/")
    assert response.status_code == 302
    assert "“Gateway” no longer works" in body(alice.get(response.url))
    assert not IngestKey.objects.filter(pk=stored.pk).exists()
    assert ingest(key, world.node_a.device_id)[0] == 401


def test_a_key_needs_a_name(world):
    response = signed_in(world.alice).post(
        f"/organizations/{world.org_a.pk}/ingest-keys/new/", {"key-name": ""}
    )
    assert response.status_code == 400 and "This field is required" in body(response)
    assert not IngestKey.objects.exists()


def test_bob_the_inspector_neither_creates_nor_revokes(world):
    key = IngestKey(organization=world.org_a, name="Gateway")
    key.issue()
    key.save()
    bob = signed_in(world.bob)
    page = body(bob.get(f"/organizations/{world.org_a.pk}/"))
    assert "Gateway" not in page and "Ingest keys" not in page
    assert (
        bob.post(
            f"/organizations/{world.org_a.pk}/ingest-keys/new/", {"key-name": "bob's"}
        ).status_code
        == 403
    )
    assert bob.post(f"/ingest-keys/{key.pk}/revoke/").status_code == 403
    assert list(IngestKey.objects.values_list("name", flat=True)) == ["Gateway"]


def test_charlie_from_org_b_gets_the_404(world):
    key = IngestKey(organization=world.org_a, name="Gateway")
    key.issue()
    key.save()
    charlie = signed_in(world.charlie)
    assert (
        charlie.post(
            f"/organizations/{world.org_a.pk}/ingest-keys/new/", {"key-name": "x"}
        ).status_code
        == 404
    )
    assert charlie.post(f"/ingest-keys/{key.pk}/revoke/").status_code == 404
    assert charlie.post("/ingest-keys/999999/revoke/").status_code == 404
    assert list(IngestKey.objects.values_list("name", flat=True)) == ["Gateway"]
