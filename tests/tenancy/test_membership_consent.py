"""Nobody is made a member of an organization without accepting (security review, low).

Before: any owner made any existing user a member — an owner too — with
``POST /api/v1/memberships/ {"user": "alice", ...}`` (201); alice then owned two
organizations (her SensorThings writes without ``X-SensorGrid-Organization`` broke), and
the answer told which usernames exist. Now owners invite by e-mail (the API and the
dashboard alike) and the person joins by accepting the link; adding, handing over and
moving memberships directly is for operators. Answers do not depend on whether a
username or an address has an account.
"""

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from sensorgrid.tenancy.models import Invitation, Membership, Organization, Role
from sensorgrid.tenancy.scoping import Action, organization_ids
from tests.support.invitations import link_in_last_mail

MEMBERSHIPS = "/api/v1/memberships/"
INVITATIONS = "/api/v1/invitations/"


def organization_of_his_own(client, slug: str) -> Organization:
    response = client.post("/api/v1/organizations/", {"name": slug, "slug": slug}, format="json")
    assert response.status_code == 201, response.content
    return Organization.objects.get(slug=slug)


# -- the reported attack ------------------------------------------------------------------


def test_an_owner_cannot_make_another_user_owner_of_his_organization(world, client_for):
    bob = client_for(world.bob)
    zz = organization_of_his_own(bob, "zz")
    response = bob.post(
        MEMBERSHIPS, {"organization": zz.pk, "user": "alice", "role": "owner"}, format="json"
    )
    assert response.status_code == 403, response.content
    assert "invite by e-mail" in response.json()["detail"]
    assert not Membership.objects.filter(user=world.alice, organization=zz).exists()
    # alice still owns exactly one organization, and does not see bob's in her list
    assert organization_ids(world.alice, Action.CHANGE).ids == {world.org_a.pk}
    listed = client_for(world.alice).get("/api/v1/organizations/").json()["results"]
    assert "zz" not in {o["slug"] for o in listed}


@pytest.mark.parametrize("role", ["owner", "inspector"])
def test_the_answer_does_not_tell_whether_a_username_exists(world, client_for, role):
    bob = client_for(world.bob)
    zz = organization_of_his_own(bob, "zz")
    answers = [
        bob.post(MEMBERSHIPS, {"organization": zz.pk, "user": name, "role": role}, format="json")
        for name in ("alice", "no-such-user")
    ]
    assert [a.status_code for a in answers] == [403, 403]
    assert answers[0].json() == answers[1].json()
    assert Membership.objects.filter(organization=zz).count() == 1  # bob alone


def test_an_owner_cannot_hand_a_membership_to_another_user(world, client_for):
    alice = client_for(world.alice)
    detail = reverse("membership-detail", args=[world.membership_bob.pk])
    answers = [
        alice.patch(detail, {"user": name}, format="json") for name in ("dave", "no-such-user")
    ]
    assert [a.status_code for a in answers] == [403, 403]
    assert answers[0].json() == answers[1].json()
    world.membership_bob.refresh_from_db()
    assert world.membership_bob.user == world.bob
    assert not Membership.objects.filter(user=world.dave).exists()


def test_an_owner_cannot_move_a_member_into_another_organization_of_his(world, client_for):
    alice = client_for(world.alice)
    second = organization_of_his_own(alice, "a-two")
    detail = reverse("membership-detail", args=[world.membership_bob.pk])
    response = alice.patch(detail, {"organization": second.pk}, format="json")
    assert response.status_code == 403, response.content
    world.membership_bob.refresh_from_db()
    assert world.membership_bob.organization_id == world.org_a.pk
    # changing the role stays the owner's
    assert alice.patch(detail, {"role": "owner"}, format="json").status_code == 200


def test_creating_an_organization_makes_only_its_creator_a_member(world, client_for):
    response = client_for(world.bob).post(
        "/api/v1/organizations/",
        {"name": "zz", "slug": "zz", "user": "alice", "members": ["alice"], "role": "owner"},
        format="json",
    )
    assert response.status_code == 201, response.content
    members = Membership.objects.filter(organization__slug="zz")
    assert list(members.values_list("user__username", "role")) == [("bob", Role.OWNER)]


def test_an_operator_still_adds_and_moves_members_directly(world, client_for):
    root = client_for(world.root)
    added = root.post(
        MEMBERSHIPS,
        {"organization": world.org_b.pk, "user": "dave", "role": "owner"},
        format="json",
    )
    assert added.status_code == 201, added.content
    detail = reverse("membership-detail", args=[world.membership_bob.pk])
    moved = root.patch(detail, {"organization": world.org_b.pk}, format="json")
    assert moved.status_code == 200, moved.content
    assert Membership.objects.get(pk=world.membership_bob.pk).organization == world.org_b


# -- inviting through the API ---------------------------------------------------------------


def test_an_owner_invites_by_e_mail_and_the_person_joins_only_by_accepting(world, client_for):
    response = client_for(world.alice).post(
        INVITATIONS,
        {"organization": world.org_a.pk, "email": "dave@example.org", "role": "owner"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["email"] == "dave@example.org" and body["role"] == "owner"
    assert body["invited_by"] == "alice" and "token" not in body
    assert not Membership.objects.filter(user=world.dave).exists()  # pending, not a member
    path = link_in_last_mail("dave@example.org")

    dave = Client()
    dave.force_login(world.dave)
    assert "Join Org A" in dave.get(path).content.decode()
    assert not Membership.objects.filter(user=world.dave).exists()  # looking is not joining
    assert dave.post(path).status_code == 302
    assert Membership.objects.get(user=world.dave, organization=world.org_a).role == Role.OWNER
    assert client_for(world.alice).get(INVITATIONS).json()["results"] == []  # used


def test_inviting_does_not_tell_whether_an_address_has_an_account(world, client_for):
    alice = client_for(world.alice)
    answers = [
        alice.post(INVITATIONS, {"organization": world.org_a.pk, "email": email}, format="json")
        for email in ("dave@example.org", "nobody@example.org")
    ]
    assert [a.status_code for a in answers] == [201, 201]
    ignored = {"id", "email", "created_at", "expires_at"}
    same = [{k: v for k, v in a.json().items() if k not in ignored} for a in answers]
    assert same[0] == same[1]
    assert set(answers[0].json()) == set(answers[1].json())
    assert [m.to for m in mail.outbox] == [["dave@example.org"], ["nobody@example.org"]]


def test_members_are_not_invited_again(world, client_for):
    response = client_for(world.alice).post(
        INVITATIONS, {"organization": world.org_a.pk, "email": "BOB@example.org"}, format="json"
    )
    assert response.status_code == 400 and "email" in response.json()
    assert not Invitation.objects.exists()


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("bob", 403),  # inspector of org A
        ("charlie", 403),  # sees org A through its public installation only
        ("dave", 403),  # likewise
    ],
)
def test_only_owners_invite(world, client_for, persona, status):
    response = client_for(getattr(world, persona)).post(
        INVITATIONS, {"organization": world.org_a.pk, "email": "x@example.org"}, format="json"
    )
    assert response.status_code == status, response.content
    assert not Invitation.objects.exists() and mail.outbox == []


def test_an_invisible_organization_is_not_found(world, client_for):
    response = client_for(world.alice).post(
        INVITATIONS, {"organization": world.org_b.pk, "email": "x@example.org"}, format="json"
    )
    assert response.status_code == 400 and "organization" in response.json()


def test_only_owners_list_and_withdraw_invitations(world, client_for):
    alice = client_for(world.alice)
    created = alice.post(
        INVITATIONS, {"organization": world.org_a.pk, "email": "carol@example.org"}, format="json"
    ).json()
    path = link_in_last_mail("carol@example.org")
    listed = {
        persona: [
            i["email"]
            for i in client_for(getattr(world, persona)).get(INVITATIONS).json()["results"]
        ]
        for persona in ("alice", "bob", "charlie", "root")
    }
    assert listed == {
        "alice": ["carol@example.org"],
        "bob": [],  # inspectors do not read the addresses an organization invites
        "charlie": [],
        "root": ["carol@example.org"],
    }
    detail = reverse("invitation-detail", args=[created["id"]])
    assert client_for(world.bob).delete(detail).status_code == 404
    assert alice.delete(detail).status_code == 204
    assert Client().get(path).status_code == 410  # the link no longer works


# -- the admin: owners change roles, operators add ------------------------------------------


@pytest.mark.parametrize("username", ["dave", "no-such-user"])
def test_an_owner_cannot_add_a_member_in_the_admin(world, admin_as, username):
    response = admin_as("alice").post(
        "/admin/tenancy/membership/add/",
        {"user": username, "organization": world.org_a.pk, "role": "owner"},
    )
    assert response.status_code == 403
    assert not Membership.objects.filter(user=world.dave).exists()


def test_an_owner_cannot_hand_or_move_a_membership_in_the_admin(world, admin_as):
    second = Organization.objects.create(name="A two", slug="a-two")
    Membership.objects.create(user=world.alice, organization=second, role=Role.OWNER)
    client = admin_as("alice")
    url = f"/admin/tenancy/membership/{world.membership_bob.pk}/change/"
    response = client.post(url, {"user": "dave", "organization": second.pk, "role": "owner"})
    assert response.status_code == 302, response.content.decode()[:2000]
    membership = Membership.objects.get(pk=world.membership_bob.pk)
    # the role changed; the member and the organization stayed
    assert (membership.user, membership.organization, membership.role) == (
        world.bob,
        world.org_a,
        Role.OWNER,
    )
    assert not Membership.objects.filter(user=world.dave).exists()


def test_an_owner_cannot_add_a_member_on_the_organization_page_of_the_admin(world, admin_as):
    mine = Membership.objects.get(user=world.alice, organization=world.org_a)
    rows = [
        (mine.pk, "alice", "owner"),
        (world.membership_bob.pk, "bob", "inspector"),
        ("", "dave", "owner"),  # a new row, forged: the page offers none to owners
    ]
    data = {
        "name": "Org A",
        "slug": "org-a",
        "time_zone": world.org_a.time_zone,
        "memberships-TOTAL_FORMS": len(rows),
        "memberships-INITIAL_FORMS": 2,
    }
    for n, (pk, user, role) in enumerate(rows):
        data |= {
            f"memberships-{n}-id": pk,
            f"memberships-{n}-organization": world.org_a.pk,
            f"memberships-{n}-user": user,
            f"memberships-{n}-role": role,
        }
    client = admin_as("alice")
    page = client.get(f"/admin/tenancy/organization/{world.org_a.pk}/change/").content.decode()
    assert "Add another Membership" not in page
    client.post(f"/admin/tenancy/organization/{world.org_a.pk}/change/", data)
    assert not Membership.objects.filter(user=world.dave).exists()


# -- the dashboard invites by e-mail only ----------------------------------------------------


def test_the_dashboard_answers_the_same_for_an_address_with_and_without_account(world, client):
    client.force_login(world.alice)
    texts = []
    for email in ("dave@example.org", "nobody@example.org"):
        response = client.post(
            f"/organizations/{world.org_a.pk}/invite/",
            {"invite-email": email, "invite-role": "owner"},
            follow=True,
        )
        assert response.status_code == 200
        texts.append(re.sub(r"dave@|nobody@", "X@", response.content.decode()))
    message = "Invitation sent to X@example.org"
    assert message in texts[0] and message in texts[1]
    assert not Membership.objects.filter(user=world.dave).exists()
