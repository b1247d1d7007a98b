from django.urls import reverse

from sensorgrid.tenancy.models import Membership, Role

URL = "/api/v1/memberships/"


def alice_membership(world) -> Membership:
    return Membership.objects.get(user=world.alice, organization=world.org_a)


def test_an_operator_adds_a_member_by_username(world, client_for):
    # Owners invite by e-mail (tests/tenancy/test_membership_consent.py); adding an
    # existing user directly is an operator's action.
    response = client_for(world.root).post(
        URL, {"organization": world.org_a.pk, "user": "dave", "role": "inspector"}, format="json"
    )
    assert response.status_code == 201, response.content
    # dave now sees org A's private site
    sites = client_for(world.dave).get("/api/v1/sites/").json()["results"]
    assert world.site_a.pk in {s["id"] for s in sites}


def test_unknown_usernames_and_duplicates_are_named_to_operators(world, client_for):
    client = client_for(world.root)
    unknown = client.post(URL, {"organization": world.org_a.pk, "user": "nobody"}, format="json")
    assert unknown.status_code == 400 and "user" in unknown.json()
    twice = client.post(URL, {"organization": world.org_a.pk, "user": "bob"}, format="json")
    assert twice.status_code == 400
    assert "already a member" in twice.json()["user"][0]


def test_an_unknown_role_is_refused(world, client_for):
    response = client_for(world.root).post(
        URL, {"organization": world.org_a.pk, "user": "dave", "role": "king"}, format="json"
    )
    assert response.status_code == 400 and "role" in response.json()


def test_the_last_owner_can_neither_leave_nor_step_down(world, client_for):
    client = client_for(world.alice)
    detail = reverse("membership-detail", args=[alice_membership(world).pk])
    demoted = client.patch(detail, {"role": "inspector"}, format="json")
    assert demoted.status_code == 400
    assert "at least one owner" in demoted.json()["role"][0]
    left = client.delete(detail)
    assert left.status_code == 400
    assert alice_membership(world).role == Role.OWNER


def test_with_a_second_owner_the_first_may_leave(world, client_for):
    client = client_for(world.alice)
    bob = reverse("membership-detail", args=[world.membership_bob.pk])
    assert client.patch(bob, {"role": "owner"}, format="json").status_code == 200
    me = reverse("membership-detail", args=[alice_membership(world).pk])
    assert client.delete(me).status_code == 204
    assert not Membership.objects.filter(user=world.alice).exists()


def test_an_inspector_cannot_promote_himself(world, client_for):
    detail = reverse("membership-detail", args=[world.membership_bob.pk])
    response = client_for(world.bob).patch(detail, {"role": "owner"}, format="json")
    assert response.status_code == 403
    world.membership_bob.refresh_from_db()
    assert world.membership_bob.role == Role.INSPECTOR


def test_filtering_by_a_foreign_organization_shows_nothing(world, client_for):
    client = client_for(world.charlie)
    foreign = client.get(URL, {"organization": world.org_a.pk})
    missing = client.get(URL, {"organization": 999999})
    assert foreign.status_code == missing.status_code == 200
    assert foreign.json()["results"] == missing.json()["results"] == []


# -- nobody grants themselves a role (issue 16, item 1) ----------------------------------


def test_a_stranger_cannot_make_himself_owner_of_a_public_organization(world, client_for):
    # Org A is visible to charlie only because it publishes a public installation.
    response = client_for(world.charlie).post(
        URL, {"organization": world.org_a.pk, "user": "charlie", "role": "owner"}, format="json"
    )
    assert response.status_code == 403, response.content
    assert "without accepting" in response.json()["detail"]
    assert not Membership.objects.filter(user=world.charlie, organization=world.org_a).exists()
    sites = client_for(world.charlie).get("/api/v1/sites/").json()["results"]
    assert world.site_a.pk not in {s["id"] for s in sites}


def test_an_owner_cannot_move_his_membership_into_a_foreign_organization(world, client_for):
    mine = Membership.objects.get(user=world.charlie, organization=world.org_b)
    detail = reverse("membership-detail", args=[mine.pk])
    response = client_for(world.charlie).patch(
        detail, {"organization": world.org_a.pk}, format="json"
    )
    assert response.status_code == 403, response.content
    mine.refresh_from_db()
    assert mine.organization_id == world.org_b.pk and mine.role == Role.OWNER


def test_an_owner_cannot_move_a_membership_into_an_organization_he_cannot_see(world, client_for):
    detail = reverse("membership-detail", args=[world.membership_bob.pk])
    response = client_for(world.alice).patch(
        detail, {"organization": world.org_b.pk}, format="json"
    )
    assert response.status_code == 400 and "organization" in response.json()
    world.membership_bob.refresh_from_db()
    assert world.membership_bob.organization_id == world.org_a.pk


def test_an_owner_cannot_change_his_own_role_even_with_another_owner(world, client_for):
    Membership.objects.filter(pk=world.membership_bob.pk).update(role=Role.OWNER)
    detail = reverse("membership-detail", args=[alice_membership(world).pk])
    response = client_for(world.alice).patch(detail, {"role": "inspector"}, format="json")
    assert response.status_code == 403
    assert "Nobody grants themselves a role" in response.json()["detail"]
    assert alice_membership(world).role == Role.OWNER


def test_an_owner_cannot_hand_someone_elses_membership_to_himself(world, client_for):
    detail = reverse("membership-detail", args=[world.membership_bob.pk])
    response = client_for(world.alice).patch(
        detail, {"user": "alice", "role": "owner"}, format="json"
    )
    assert response.status_code in (400, 403)
    world.membership_bob.refresh_from_db()
    assert world.membership_bob.user == world.bob
    assert world.membership_bob.role == Role.INSPECTOR


def test_an_operator_may_add_himself_and_the_last_owner_still_stays(world, client_for):
    root = client_for(world.root)
    response = root.post(
        URL, {"organization": world.org_b.pk, "user": "root", "role": "inspector"}, format="json"
    )
    assert response.status_code == 201, response.content
    charlie_b = Membership.objects.get(user=world.charlie, organization=world.org_b)
    detail = reverse("membership-detail", args=[charlie_b.pk])
    demoted = root.patch(detail, {"role": "inspector"}, format="json")
    assert demoted.status_code == 400
    assert "at least one owner" in demoted.json()["role"][0]
    removed = root.delete(detail)
    assert removed.status_code == 400
    assert Membership.objects.get(pk=charlie_b.pk).role == Role.OWNER


def test_a_member_may_leave(world, client_for):
    detail = reverse("membership-detail", args=[world.membership_bob.pk])
    assert client_for(world.bob).delete(detail).status_code == 403  # inspectors change nothing
    Membership.objects.filter(pk=world.membership_bob.pk).update(role=Role.OWNER)
    assert client_for(world.bob).delete(detail).status_code == 204
    assert not Membership.objects.filter(user=world.bob).exists()
