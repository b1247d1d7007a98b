"""The admin obeys the same wall as the API."""

import pytest
from django.contrib.messages import get_messages

from sensorgrid.inventory.models import Node, Site


@pytest.mark.parametrize(
    ("persona", "sees", "hidden"),
    [
        ("alice", ["secretA site", "Public school"], ["secretB site"]),
        ("bob", ["secretA site", "Public school"], ["secretB site"]),
        ("charlie", ["secretB site", "Public school"], ["secretA site"]),
        ("dave", ["Public school"], ["secretA site", "secretB site"]),
        ("root", ["secretA site", "secretB site", "Public school"], []),
    ],
)
def test_site_list_shows_only_what_the_user_may_see(admin_as, persona, sees, hidden):
    body = admin_as(persona).get("/admin/inventory/site/").content.decode()
    for name in sees:
        assert name in body
    for name in hidden:
        assert name not in body


def test_a_foreign_object_is_not_found_in_the_admin(world, admin_as):
    response = admin_as("charlie").get(f"/admin/inventory/site/{world.site_a.pk}/change/")
    assert response.status_code == 302  # Django's "doesn't exist" redirect
    assert "secretA" not in response.content.decode()


def test_an_inspector_views_but_cannot_change(world, admin_as):
    client = admin_as("bob")
    url = f"/admin/inventory/site/{world.site_a.pk}/change/"
    assert client.get(url).status_code == 200
    response = client.post(url, {"organization": world.org_a.pk, "name": "hacked"})
    assert response.status_code == 403
    assert Site.objects.get(pk=world.site_a.pk).name == "secretA site"


def test_an_owner_cannot_put_a_site_into_another_organization(world, admin_as):
    response = admin_as("alice").post(
        "/admin/inventory/site/add/",
        {
            "organization": world.org_b.pk,
            "name": "planted",
            "rooms-TOTAL_FORMS": 0,
            "rooms-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 200  # the form comes back with an error
    assert "Select a valid choice" in response.content.decode()
    assert not Site.objects.filter(name="planted").exists()


def test_adding_a_node_in_the_admin_shows_its_credential_once(world, admin_as):
    client = admin_as("alice")
    response = client.post(
        "/admin/inventory/node/add/",
        {"organization": world.org_a.pk, "device_id": "admin-made", "metadata": "{}"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    node = Node.objects.get(device_id="admin-made")
    shown = [str(m) for m in get_messages(response.wsgi_request) if "admin-made" in str(m)]
    credential = shown[0].rsplit(" ", 1)[-1]
    assert node.check_credential(credential)


def test_admin_index_lists_the_inventory_for_staff_without_django_permissions(admin_as):
    body = admin_as("bob").get("/admin/").content.decode()
    assert "Nodes" in body and "Installations" in body and "Quantities" in body


# -- memberships in the admin: by username, never of oneself ------------------------------


def test_an_operator_adds_a_member_by_username_in_the_admin(world, admin_as):
    from sensorgrid.tenancy.models import Membership

    response = admin_as("root").post(
        "/admin/tenancy/membership/add/",
        {"user": "dave", "organization": world.org_a.pk, "role": "inspector"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Membership.objects.filter(user=world.dave, organization=world.org_a).exists()


def test_an_owner_cannot_change_his_own_membership_in_the_admin(world, admin_as):
    from sensorgrid.tenancy.models import Membership, Role

    Membership.objects.filter(pk=world.membership_bob.pk).update(role=Role.OWNER)
    mine = Membership.objects.get(user=world.alice, organization=world.org_a)
    client = admin_as("alice")
    url = f"/admin/tenancy/membership/{mine.pk}/change/"
    assert 'value="alice"' in client.get(url).content.decode()  # the username, not the id
    response = client.post(
        url, {"user": "alice", "organization": world.org_a.pk, "role": "inspector"}
    )
    assert response.status_code == 200
    assert "Nobody grants themselves a role" in response.content.decode()
    assert Membership.objects.get(pk=mine.pk).role == Role.OWNER


def test_a_stranger_cannot_add_himself_to_a_visible_organization_in_the_admin(world, admin_as):
    from sensorgrid.tenancy.models import Membership

    response = admin_as("charlie").post(
        "/admin/tenancy/membership/add/",
        {"user": "charlie", "organization": world.org_a.pk, "role": "owner"},
    )
    assert response.status_code in (200, 403)
    assert not Membership.objects.filter(user=world.charlie, organization=world.org_a).exists()


def test_the_organization_page_keeps_its_last_owner(world, admin_as):
    from sensorgrid.tenancy.models import Membership, Role

    mine = Membership.objects.get(user=world.alice, organization=world.org_a)
    response = admin_as("root").post(
        f"/admin/tenancy/organization/{world.org_a.pk}/change/",
        {
            "name": "Org A",
            "slug": "org-a",
            "memberships-TOTAL_FORMS": 2,
            "memberships-INITIAL_FORMS": 2,
            "memberships-0-id": mine.pk,
            "memberships-0-organization": world.org_a.pk,
            "memberships-0-user": "alice",
            "memberships-0-role": "inspector",
            "memberships-1-id": world.membership_bob.pk,
            "memberships-1-organization": world.org_a.pk,
            "memberships-1-user": "bob",
            "memberships-1-role": "inspector",
        },
    )
    assert response.status_code == 200
    assert "at least one owner" in response.content.decode()
    assert Membership.objects.get(pk=mine.pk).role == Role.OWNER


def test_staff_cannot_browse_the_user_accounts(world, admin_as):
    assert admin_as("alice").get("/admin/tenancy/user/").status_code == 403


@pytest.mark.parametrize(
    ("persona", "sees", "hidden"),
    [
        ("alice", ["secretA hook"], ["secretB hook"]),
        ("bob", ["secretA hook"], ["secretB hook"]),
        ("dave", [], ["secretA hook", "secretB hook"]),
        ("root", ["secretA hook", "secretB hook"], []),
    ],
)
def test_alert_admin_pages_are_scoped_like_the_api(world, admin_as, persona, sees, hidden):
    from sensorgrid.alerts.models import Channel

    for org, name in ((world.org_a, "secretA hook"), (world.org_b, "secretB hook")):
        Channel.objects.create(
            organization=org, name=name, kind="webhook", config={"url": "https://example.org/h"}
        )
    client = admin_as(persona)
    response = client.get("/admin/alerts/channel/")
    assert response.status_code == 200
    body = response.content.decode()
    for name in sees:
        assert name in body
    for name in hidden:
        assert name not in body
    foreign = Channel.objects.get(name="secretB hook")
    if persona != "root":
        page = client.get(f"/admin/alerts/channel/{foreign.pk}/change/")
        assert page.status_code == 302 and "secretB" not in page.content.decode()
