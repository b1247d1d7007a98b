"""Managing nodes in the dashboard (Django test client): registering one shows its
credential once and the device can send with it; rotating, disabling and enabling
change which credential works; deleting asks first. Inspectors read, strangers get 404."""

import json
import re

import pytest
from django.test import Client

from sensorgrid.inventory.models import Installation, Node
from tests import factories as f

pytestmark = pytest.mark.django_db


def body(response) -> str:
    return response.content.decode()


def credential_in(response) -> str:
    match = re.search(
        r'id="credential" class="secret" type="text" readonly value="([^"]+)"', body(response)
    )
    assert match, "no credential on the page"
    return match.group(1)


def ingest(credential: str, device_id: str) -> int:
    """What the device notices: whether SensorGrid takes its value (HTTP status)."""
    response = Client().post(
        "/api/v1/ingest/",
        data=json.dumps({"device": device_id, "values": {"co2": 600}}),
        content_type="application/json",
        headers={"authorization": f"Bearer {credential}"},
    )
    return response.status_code


@pytest.fixture
def alice(world, client):
    client.force_login(world.alice)
    return client


def register(client, world, **fields):
    data = {"organization": world.org_a.pk, "device_id": "new-co2-1", "alias": "Lab monitor"}
    return client.post("/nodes/new/", {**data, **fields})


def test_a_new_node_shows_its_credential_once_and_the_device_can_send_with_it(world, alice):
    response = register(alice, world, model=world.shared_model.pk, sampling_interval="60")
    assert response.status_code == 200
    node = Node.objects.get(device_id="new-co2-1")
    assert (node.organization, node.alias, node.model, node.sampling_interval) == (
        world.org_a,
        "Lab monitor",
        world.shared_model,
        60,
    )
    credential = credential_in(response)
    assert node.check_credential(credential)
    assert "no-cache" in response["Cache-Control"] and "no-store" in response["Cache-Control"]
    assert 'data-copy="credential"' in body(response) and "/static/dashboard/copy.js" in body(
        response
    )
    assert "<script>" not in body(response)  # no inline script (CSP)
    assert ingest(credential, "new-co2-1") in (200, 202)
    settings_page = body(alice.get(f"/nodes/{node.pk}/settings/"))
    assert credential not in settings_page  # shown once, never again
    assert "<strong>Enabled</strong>" in settings_page


def test_registering_checks_like_the_api(world, alice):
    taken = register(alice, world, device_id=world.node_a.device_id.upper())
    assert "This organization already has a node with this device id." in body(taken)
    bad = register(alice, world, device_id="has space")
    assert "Use letters, digits" in body(bad)
    foreign_org = register(alice, world, organization=world.org_b.pk)
    assert "Select a valid choice." in body(foreign_org)
    foreign_model = f.NodeModelFactory(organization=world.org_b, name="secretB model")
    planted = register(alice, world, model=foreign_model.pk)
    assert "Select a valid choice." in body(planted)
    assert "secretB model" not in body(alice.get("/nodes/new/"))
    assert not Node.objects.filter(device_id__in=["new-co2-1", "has space"]).exists()


def test_alice_changes_a_nodes_settings_on_its_settings_page(world, alice):
    node_page = body(alice.get(f"/nodes/{world.node_a.pk}/"))
    assert f'href="/nodes/{world.node_a.pk}/settings/"' in node_page
    response = alice.post(
        f"/nodes/{world.node_a.pk}/settings/",
        {
            "device_id": "secretA-node",
            "alias": "Renamed",
            "model": world.model_a.pk,
            "sampling_interval": "120",
            "metadata": '{"serial": "A-17"}',
        },
    )
    assert response.status_code == 302
    world.node_a.refresh_from_db()
    assert (world.node_a.alias, world.node_a.sampling_interval) == ("Renamed", 120)
    assert world.node_a.metadata == {"serial": "A-17"}
    refused = alice.post(
        f"/nodes/{world.node_a.pk}/settings/",
        {"device_id": "secretA-node", "metadata": "[1, 2]"},
    )
    assert "Must be a JSON object." in body(refused)


def test_rotating_stops_the_old_credential_and_shows_the_new_one_once(world, alice):
    old = credential_in(register(alice, world))
    node = Node.objects.get(device_id="new-co2-1")
    response = alice.post(f"/nodes/{node.pk}/rotate-credential/")
    new = credential_in(response)
    assert new != old and "The old credential stopped working just now." in body(response)
    assert ingest(old, "new-co2-1") == 401
    assert ingest(new, "new-co2-1") in (200, 202)
    assert alice.get(f"/nodes/{node.pk}/rotate-credential/").status_code == 405


def test_a_disabled_node_cannot_send_until_enabled_with_a_new_credential(world, alice):
    old = credential_in(register(alice, world))
    node = Node.objects.get(device_id="new-co2-1")
    assert alice.post(f"/nodes/{node.pk}/disable/").status_code == 302
    assert ingest(old, "new-co2-1") == 401
    page = body(alice.get(f"/nodes/{node.pk}/settings/"))
    assert "<strong>Disabled</strong>" in page and "Enable node" in page
    response = alice.post(f"/nodes/{node.pk}/enable/")
    new = credential_in(response)
    assert ingest(new, "new-co2-1") in (200, 202) and ingest(old, "new-co2-1") == 401


def test_deleting_a_node_asks_first(world, alice):
    page = alice.get(f"/nodes/{world.node_a.pk}/delete/")
    assert f"Delete node “{world.node_a}”?" in body(page) and "all its measurements" in body(page)
    assert Node.objects.filter(pk=world.node_a.pk).exists()
    done = alice.post(f"/nodes/{world.node_a.pk}/delete/")
    assert done.status_code == 302 and done["Location"] == "/"
    assert not Node.objects.filter(pk=world.node_a.pk).exists()
    assert not Installation.objects.filter(pk=world.installation_a.pk).exists()


def test_bob_the_inspector_sees_the_settings_without_forms_or_buttons(world, client):
    client.force_login(world.bob)
    response = client.get(f"/nodes/{world.node_a.pk}/settings/")
    assert response.status_code == 200
    page = body(response)
    assert "secretA-node" in page and "secretA room" in page
    assert "<form" not in page.split('<main id="main"')[1]
    assert "Rotate" not in page and "Delete node" not in page
    assert "/nodes/new/" not in body(client.get("/sites/"))


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/nodes/new/"),
        ("post", "/nodes/new/"),
        ("post", "/nodes/{node_a.pk}/settings/"),
        ("post", "/nodes/{node_a.pk}/rotate-credential/"),
        ("post", "/nodes/{node_a.pk}/disable/"),
        ("post", "/nodes/{node_a.pk}/enable/"),
        ("get", "/nodes/{node_a.pk}/delete/"),
        ("post", "/nodes/{node_a.pk}/delete/"),
    ],
)
def test_bob_the_inspector_may_not_change_a_node(world, client, method, path):
    client.force_login(world.bob)
    digest = world.node_a.credential_digest
    response = getattr(client, method)(path.format(**vars(world)), {"alias": "bob was here"})
    assert response.status_code == 403
    world.node_a.refresh_from_db()
    assert world.node_a.alias != "bob was here"
    assert world.node_a.credential_digest == digest


@pytest.mark.parametrize(
    "path",
    [
        "/nodes/{node_a.pk}/settings/",
        "/nodes/{node_a.pk}/rotate-credential/",
        "/nodes/{node_a.pk}/disable/",
        "/nodes/{node_a.pk}/enable/",
        "/nodes/{node_a.pk}/delete/",
        "/nodes/{public_node.pk}/settings/",
        "/nodes/999999/settings/",
    ],
)
def test_charlie_gets_the_404_for_alices_nodes(world, client, path):
    client.force_login(world.charlie)
    path = path.format(**vars(world))
    digest = world.node_a.credential_digest
    for response in (client.get(path), client.post(path)):
        assert response.status_code in (404, 405)
        assert "secretA" not in body(response)
    assert client.post(path).status_code == 404
    world.node_a.refresh_from_db()
    assert world.node_a.credential_digest == digest
