"""Suspending an organization is an operator's act (issue 20): owners can neither do nor
undo it, its members still sign in and read, and the dashboard says it is suspended.

What suspension refuses is tested where it happens: tests/ingest/test_suspension.py
(HTTP and MQTT ingest) and tests/brokerauth/test_suspension.py (the brokers).
"""

import pytest
from django.utils import timezone

from sensorgrid.tenancy.models import Organization

BANNER = "This organization is suspended"


def suspend(organization: Organization) -> None:
    organization.suspended_at = timezone.now()
    organization.save(update_fields=["suspended_at"])


def org_url(organization: Organization) -> str:
    return f"/api/v1/organizations/{organization.pk}/"


def test_an_owner_cannot_unsuspend_his_organization_through_the_api(world, client_for):
    suspend(world.org_a)
    client = client_for(world.alice)
    response = client.patch(org_url(world.org_a), {"suspended": False}, format="json")
    assert response.status_code == 403
    assert "Only operators" in response.json()["detail"]
    # suspended_at is read-only: writing it directly changes nothing
    response = client.patch(org_url(world.org_a), {"suspended_at": None}, format="json")
    assert response.status_code == 200
    world.org_a.refresh_from_db()
    assert world.org_a.suspended
    assert response.json()["suspended"] is True


def test_an_owner_cannot_suspend_either_but_still_edits_the_rest(world, client_for):
    client = client_for(world.alice)
    response = client.patch(org_url(world.org_a), {"suspended": True}, format="json")
    assert response.status_code == 403
    response = client.patch(org_url(world.org_a), {"name": "Org A2", "suspended": False})
    assert response.status_code == 200, response.content
    world.org_a.refresh_from_db()
    assert (world.org_a.name, world.org_a.suspended) == ("Org A2", False)


def test_an_operator_suspends_and_unsuspends_through_the_api(world, client_for):
    client = client_for(world.root)
    response = client.patch(org_url(world.org_a), {"suspended": True}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["suspended_at"] is not None
    world.org_a.refresh_from_db()
    assert world.org_a.suspended
    response = client.patch(org_url(world.org_a), {"suspended": False}, format="json")
    assert (response.status_code, response.json()["suspended_at"]) == (200, None)


def test_only_an_operator_has_the_admin_actions(world, client):
    world.alice.is_staff = True
    world.alice.save()
    client.force_login(world.alice)
    listing = client.get("/admin/tenancy/organization/").content.decode()
    assert 'value="suspend"' not in listing
    client.post(
        "/admin/tenancy/organization/",
        {"action": "suspend", "_selected_action": [world.org_a.pk]},
    )
    world.org_a.refresh_from_db()
    assert not world.org_a.suspended

    client.force_login(world.root)
    assert 'value="suspend"' in client.get("/admin/tenancy/organization/").content.decode()
    response = client.post(
        "/admin/tenancy/organization/",
        {"action": "suspend", "_selected_action": [world.org_a.pk]},
        follow=True,
    )
    assert "1 organization(s) suspended." in response.content.decode()
    world.org_a.refresh_from_db()
    assert world.org_a.suspended
    client.post(
        "/admin/tenancy/organization/",
        {"action": "unsuspend", "_selected_action": [world.org_a.pk]},
    )
    world.org_a.refresh_from_db()
    assert not world.org_a.suspended


@pytest.mark.parametrize("persona", ["alice", "bob"])
def test_members_still_read_and_see_the_banner(world, client, client_for, persona):
    user = getattr(world, persona)
    client.force_login(user)
    assert BANNER not in client.get("/").content.decode()
    suspend(world.org_a)
    page = client.get("/")
    assert page.status_code == 200
    assert f"{BANNER}: Org A" in page.content.decode()
    nodes = client_for(user).get("/api/v1/nodes/")
    assert nodes.status_code == 200
    assert world.node_a.device_id in {node["device_id"] for node in nodes.json()["results"]}
    # another organization's members see no banner
    client.force_login(world.charlie)
    assert BANNER not in client.get("/").content.decode()
