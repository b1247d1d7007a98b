"""A node's device id cannot be changed onto an id another organization's node holds.

The unbound MQTT routes' topics of an id belong to its first node (lowest pk, any
organization, ignoring case: brokerauth/acl.py). Registering a duplicate is allowed (it
gets no unbound topics), but renaming an OLDER node onto another organization's id made
it the first node: the owner's device lost its topics and its messages went to the
renamer's node. A rename onto such an id is refused, through the API and the dashboard.
"""

import pytest
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.urls import reverse

from sensorgrid.brokerauth import acl
from sensorgrid.dashboard.manage.forms import NodeForm
from sensorgrid.inventory.models import Node
from tests import factories as f

TAKEN = "registered by another organization"


@pytest.fixture
def older_b(world):
    """A node of organization B created before A's victim (the lower pk wins the id)."""
    older = f.NodeFactory(organization=world.org_b, device_id="b-spare")
    victim = f.NodeFactory(organization=world.org_a, device_id="co2-victim")
    return older, victim


def form_for(user, node: Node, **changes) -> NodeForm:
    request = RequestFactory().post("/")
    request.user = user
    data = {"device_id": node.device_id, "alias": node.alias, "metadata": "{}", **changes}
    return NodeForm(data, request=request, instance=node)


@pytest.mark.parametrize("spelling", [str.lower, str.upper])
def test_the_api_refuses_a_rename_onto_another_organizations_id(
    world, client_for, older_b, spelling
):
    older, victim = older_b
    response = client_for(world.charlie).patch(
        reverse("node-detail", args=[older.pk]),
        {"device_id": spelling("co2-victim")},
        format="json",
    )
    assert response.status_code == 400
    assert TAKEN in response.json()["device_id"][0]
    older.refresh_from_db()
    assert older.device_id == "b-spare"
    assert acl.first_node_id("co2-victim") == victim.pk


@pytest.mark.parametrize("spelling", [str.lower, str.upper])
def test_the_dashboard_form_refuses_it_too(world, older_b, spelling):
    older, victim = older_b
    form = form_for(world.charlie, older, device_id=spelling("co2-victim"))
    assert not form.is_valid()
    assert TAKEN in form.errors["device_id"][0]
    older.refresh_from_db()
    assert older.device_id == "b-spare"
    assert acl.first_node_id("co2-victim") == victim.pk


def test_the_model_clean_refuses_it_for_the_admin(world, older_b):
    older, _ = older_b
    older.device_id = "CO2-VICTIM"
    with pytest.raises(ValidationError) as refused:
        older.full_clean()
    assert TAKEN in refused.value.message_dict["device_id"][0]


def test_a_rename_onto_a_free_id_works_through_both(world, client_for, older_b):
    older, _ = older_b
    response = client_for(world.charlie).patch(
        reverse("node-detail", args=[older.pk]), {"device_id": "b-fresh"}, format="json"
    )
    assert response.status_code == 200, response.content
    form = form_for(world.charlie, Node.objects.get(pk=older.pk), device_id="b-fresher")
    assert form.is_valid(), form.errors
    form.save()
    assert Node.objects.get(pk=older.pk).device_id == "b-fresher"


def test_the_same_organizations_rules_are_unchanged(world, client_for):
    client = client_for(world.alice)
    url = reverse("node-detail", args=[world.public_node.pk])
    # another node of the same organization: the old per-organization message
    response = client.patch(url, {"device_id": world.node_a.device_id.upper()}, format="json")
    assert response.status_code == 400
    assert "This organization already has" in response.json()["device_id"][0]
    assert client.patch(url, {"device_id": "a-renamed"}, format="json").status_code == 200


def test_a_registered_duplicate_keeps_working(world, client_for):
    # creating a duplicate stays allowed; editing it (even the case of its own id) too
    client = client_for(world.charlie)
    created = client.post(
        "/api/v1/nodes/",
        {"organization": world.org_b.pk, "device_id": world.node_a.device_id},
        format="json",
    )
    assert created.status_code == 201, created.content
    url = reverse("node-detail", args=[created.json()["id"]])
    assert client.patch(url, {"alias": "Mine too"}, format="json").status_code == 200
    again = client.patch(url, {"device_id": world.node_a.device_id.upper()}, format="json")
    assert again.status_code == 200, again.content
    assert acl.first_node_id(world.node_a.device_id) == world.node_a.pk
