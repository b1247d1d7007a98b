import pytest
from django.urls import reverse

from sensorgrid.inventory.models import Node

URL = "/api/v1/nodes/"


def test_registering_a_node_shows_its_credential_once(world, client_for):
    client = client_for(world.alice)
    response = client.post(
        URL,
        {"organization": world.org_a.pk, "device_id": "70b3d57ed0000abc", "alias": "Lab"},
        format="json",
    )
    assert response.status_code == 201, response.content
    credential = response.json()["credential"]
    node = Node.objects.get(device_id="70b3d57ed0000abc")
    assert node.check_credential(credential)
    assert credential not in node.credential_digest  # only the digest is stored
    shown_again = client.get(reverse("node-detail", args=[node.pk])).json()
    assert "credential" not in shown_again
    listed = client.get(URL).content.decode()
    assert credential not in listed and node.credential_digest not in listed


def test_rotating_the_credential_revokes_the_old_one(world, client_for):
    client = client_for(world.alice)
    first = client.post(
        URL, {"organization": world.org_a.pk, "device_id": "rotating"}, format="json"
    ).json()
    rotate = reverse("node-rotate-credential", args=[first["id"]])
    second = client.post(rotate).json()["credential"]
    node = Node.objects.get(pk=first["id"])
    assert node.check_credential(second)
    assert not node.check_credential(first["credential"])


@pytest.mark.parametrize(("persona", "status"), [("bob", 403), ("charlie", 404), (None, 401)])
def test_only_owners_rotate_credentials(world, client_for, persona, status):
    client = client_for(getattr(world, persona) if persona else None)
    before = world.node_a.credential_digest
    response = client.post(reverse("node-rotate-credential", args=[world.node_a.pk]))
    assert response.status_code == status
    world.node_a.refresh_from_db()
    assert world.node_a.credential_digest == before


@pytest.mark.parametrize(
    "device_id", ["has/slash", "sensor+", "sensor#1", "", "tab\tinside", "-dash-first", "ü-umlaut"]
)
def test_device_ids_that_break_mqtt_topics_are_refused(world, client_for, device_id):
    response = client_for(world.alice).post(
        URL, {"organization": world.org_a.pk, "device_id": device_id}, format="json"
    )
    assert response.status_code == 400
    assert "device_id" in response.json()


@pytest.mark.parametrize("spelling", [str.lower, str.upper])
def test_device_ids_are_unique_within_an_organization_ignoring_case(world, client_for, spelling):
    response = client_for(world.alice).post(
        URL,
        {"organization": world.org_a.pk, "device_id": spelling(world.node_a.device_id)},
        format="json",
    )
    assert response.status_code == 400
    assert "device_id" in response.json()


def test_another_organizations_device_id_does_not_block_registering_it(world, client_for):
    # Device ids are looked up within the sender's organization (docs/lorawan.md): a
    # squatter registering them first must not keep the owner from registering.
    response = client_for(world.charlie).post(
        URL, {"organization": world.org_b.pk, "device_id": world.node_a.device_id}, format="json"
    )
    assert response.status_code == 201, response.content
    assert Node.objects.filter(device_id=world.node_a.device_id).count() == 2


def test_a_dev_eui_is_stored_in_lower_case_through_the_api(world, client_for):
    client = client_for(world.alice)
    response = client.post(
        URL, {"organization": world.org_a.pk, "device_id": "70B3D57ED005B89A"}, format="json"
    )
    assert response.status_code == 201 and response.json()["device_id"] == "70b3d57ed005b89a"
    again = client.post(
        URL, {"organization": world.org_a.pk, "device_id": "70b3d57ed005B89A"}, format="json"
    )
    assert again.status_code == 400 and "device_id" in again.json()


def test_a_node_cannot_use_another_organizations_private_model(world, client_for):
    # charlie cannot even see org A's model: it does not exist for him.
    response = client_for(world.charlie).post(
        URL,
        {"organization": world.org_b.pk, "device_id": "x1", "model": world.model_a.pk},
        format="json",
    )
    assert response.status_code == 400
    assert "model" in response.json()


def test_a_node_can_use_a_shared_model(world, client_for):
    response = client_for(world.charlie).post(
        URL,
        {"organization": world.org_b.pk, "device_id": "x2", "model": world.shared_model.pk},
        format="json",
    )
    assert response.status_code == 201, response.content


def test_a_node_does_not_move_between_organizations(world, client_for):
    # root may change both organizations, and still the node stays where it is.
    response = client_for(world.root).patch(
        reverse("node-detail", args=[world.node_a.pk]),
        {"organization": world.org_b.pk},
        format="json",
    )
    assert response.status_code == 400
    assert "organization" in response.json()


@pytest.mark.parametrize("metadata", [[1, 2], "text", 3])
def test_metadata_must_be_an_object(world, client_for, metadata):
    response = client_for(world.alice).patch(
        reverse("node-detail", args=[world.node_a.pk]), {"metadata": metadata}, format="json"
    )
    assert response.status_code == 400
    assert "metadata" in response.json()


def test_deleting_a_model_in_use_is_a_conflict_that_names_the_users(world, client_for):
    response = client_for(world.alice).delete(reverse("nodemodel-detail", args=[world.model_a.pk]))
    assert response.status_code == 409
    assert world.node_a.alias in response.json()["detail"]


def test_deleting_an_organization_removes_its_nodes_and_models(world, client_for):
    response = client_for(world.alice).delete(reverse("organization-detail", args=[world.org_a.pk]))
    assert response.status_code == 204
    assert not Node.objects.filter(organization_id=world.org_a.pk).exists()


def test_a_dev_eui_filter_in_upper_case_finds_the_node(world, client_for):
    client = client_for(world.alice)
    created = client.post(
        URL, {"organization": world.org_a.pk, "device_id": "70B3D57ED0000ABD"}, format="json"
    )
    assert created.status_code == 201, created.content
    found = client.get(URL, {"device_id": "70B3D57ED0000ABD"}).json()
    assert [n["device_id"] for n in found["results"]] == ["70b3d57ed0000abd"]
