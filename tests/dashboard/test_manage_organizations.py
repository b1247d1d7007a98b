"""Managing organizations and members in the dashboard (Django test client): anybody
founds an organization and owns it; owners rename it, set its retention, change roles
and remove members; inspectors read without forms; strangers get the 404. Nobody changes
his own role and no organization is left without an owner."""

import pytest

from sensorgrid.tenancy.models import Membership, Organization, Role
from tests import factories as f

pytestmark = pytest.mark.django_db


def body(response) -> str:
    return response.content.decode()


@pytest.fixture
def as_user(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def role_of(user, organization) -> str | None:
    membership = Membership.objects.filter(user=user, organization=organization).first()
    return membership.role if membership else None


def test_alice_lists_her_organizations_with_her_role(world, as_user):
    page = body(as_user(world.alice).get("/organizations/"))
    assert "Org A" in page and "Owner (full control)" in page
    assert "Org B" not in page
    assert '<a href="/organizations/" aria-current="page">Organizations</a>' in page


def test_a_user_without_organization_founds_one_and_owns_it(world, as_user):
    client = as_user(world.dave)
    assert "not a member of any organization" in body(client.get("/organizations/"))
    response = client.post(
        "/organizations/new/", {"name": "Riverside School", "raw_retention_days": "30"}
    )
    organization = Organization.objects.get(name="Riverside School")
    assert response.status_code == 302 and response.url == f"/organizations/{organization.pk}/"
    assert organization.slug == "riverside-school" and organization.raw_retention_days == 30
    assert role_of(world.dave, organization) == Role.OWNER
    page = body(client.get(response.url))
    assert "Riverside School" in page and "30 days" in page and "Send invitation" in page


def test_the_api_serializer_refuses_what_the_api_refuses(world, as_user):
    client = as_user(world.alice)
    response = client.post("/organizations/new/", {"name": "Dup", "slug": "org-a"})
    assert response.status_code == 200
    assert "organization with this slug already exists" in body(response).lower()
    response = client.post("/organizations/new/", {"name": "Zero", "raw_retention_days": "0"})
    assert "greater than or equal to 1" in body(response)
    assert not Organization.objects.filter(name__in=["Dup", "Zero"]).exists()


def test_alice_renames_org_a_and_sets_its_retention(world, as_user):
    client = as_user(world.alice)
    edit = f"/organizations/{world.org_a.pk}/edit/"
    assert 'value="Org A"' in body(client.get(edit))
    response = client.post(edit, {"name": "Org A renamed", "raw_retention_days": "90"})
    assert response.status_code == 302
    world.org_a.refresh_from_db()
    assert world.org_a.name == "Org A renamed" and world.org_a.raw_retention_days == 90
    assert world.org_a.slug == "org-a"  # the slug stays: URLs and exports name it
    client.post(edit, {"name": "Org A renamed", "raw_retention_days": ""})
    world.org_a.refresh_from_db()
    assert world.org_a.raw_retention_days is None


def test_bob_the_inspector_sees_the_members_without_any_form(world, as_user):
    page = body(as_user(world.bob).get(f"/organizations/{world.org_a.pk}/"))
    assert 'data-member="alice"' in page and 'data-member="bob"' in page
    assert "needs the owner role" in page
    for forbidden in ("/edit/", "/invite/", "/role/", "/remove/", "/ingest-keys/"):
        assert forbidden not in page


@pytest.mark.parametrize(
    "path",
    [
        "/organizations/{org_a.pk}/edit/",
        "/members/{membership_bob.pk}/role/",
        "/members/{membership_bob.pk}/remove/",
    ],
)
def test_bob_the_inspector_may_not_change_anything(world, as_user, path):
    client = as_user(world.bob)
    path = path.format(**vars(world))
    assert client.post(path, {"name": "bob's"}).status_code == 403
    assert client.post(path, {f"member-{world.membership_bob.pk}-role": "owner"}).status_code == 403
    assert role_of(world.bob, world.org_a) == Role.INSPECTOR
    world.org_a.refresh_from_db()
    assert world.org_a.name == "Org A"


@pytest.mark.parametrize(
    "path",
    [
        "/organizations/{org_a.pk}/",
        "/organizations/{org_a.pk}/edit/",
        "/members/{membership_bob.pk}/role/",
        "/members/{membership_bob.pk}/remove/",
        "/organizations/999999/",
        "/members/999999/remove/",
    ],
)
def test_charlie_from_org_b_gets_the_404_for_every_id(world, as_user, path):
    client = as_user(world.charlie)
    path = path.format(**vars(world))
    assert client.get(path).status_code in (404, 405)
    assert client.post(path, {"name": "x", "role": "owner"}).status_code == 404
    assert role_of(world.bob, world.org_a) == Role.INSPECTOR
    assert role_of(world.charlie, world.org_a) is None


def test_alice_makes_bob_an_owner_and_back(world, as_user):
    client = as_user(world.alice)
    role = f"/members/{world.membership_bob.pk}/role/"
    response = client.post(role, {f"member-{world.membership_bob.pk}-role": "owner"})
    assert response.status_code == 302
    assert role_of(world.bob, world.org_a) == Role.OWNER
    assert "bob is now owner" in body(client.get(response.url))
    client.post(role, {f"member-{world.membership_bob.pk}-role": "inspector"})
    assert role_of(world.bob, world.org_a) == Role.INSPECTOR


def test_nobody_changes_his_own_role(world, as_user):
    client = as_user(world.alice)
    mine = Membership.objects.get(user=world.alice, organization=world.org_a)
    page = body(client.get(f"/organizations/{world.org_a.pk}/"))
    assert f"/members/{mine.pk}/role/" not in page  # no form for oneself
    response = client.post(f"/members/{mine.pk}/role/", {f"member-{mine.pk}-role": "inspector"})
    assert "Nobody grants themselves a role" in body(client.get(response.url))
    assert role_of(world.alice, world.org_a) == Role.OWNER


def test_the_last_owner_can_be_neither_demoted_nor_removed(world, as_user):
    second = f.UserFactory(username="second")
    other = f.MembershipFactory(user=second, organization=world.org_a, role=Role.OWNER)
    client = as_user(second)
    alice = Membership.objects.get(user=world.alice, organization=world.org_a)
    client.post(f"/members/{alice.pk}/role/", {f"member-{alice.pk}-role": "inspector"})
    assert role_of(world.alice, world.org_a) == Role.INSPECTOR
    # second is the last owner now: leaving is refused, with the reason
    response = client.post(f"/members/{other.pk}/remove/")
    assert response.status_code == 409 and "at least one owner" in body(response)
    assert role_of(second, world.org_a) == Role.OWNER


def test_alice_removes_bob_after_a_confirmation(world, as_user):
    client = as_user(world.alice)
    path = f"/members/{world.membership_bob.pk}/remove/"
    assert "Remove bob from Org A?" in body(client.get(path))
    assert role_of(world.bob, world.org_a) == Role.INSPECTOR  # a GET changes nothing
    response = client.post(path)
    assert response.status_code == 302
    assert role_of(world.bob, world.org_a) is None
    assert "bob is no longer a member" in body(client.get(response.url))
    world.bob.refresh_from_db()  # the account stays
    assert as_user(world.bob).get(f"/organizations/{world.org_a.pk}/").status_code == 404


def test_an_owner_leaves_when_another_owner_remains(world, as_user):
    f.MembershipFactory(user=f.UserFactory(username="second"), organization=world.org_a)
    Membership.objects.filter(user__username="second").update(role=Role.OWNER)
    client = as_user(world.alice)
    mine = Membership.objects.get(user=world.alice, organization=world.org_a)
    response = client.post(f"/members/{mine.pk}/remove/")
    assert response.status_code == 302 and response.url == "/organizations/"
    assert role_of(world.alice, world.org_a) is None
