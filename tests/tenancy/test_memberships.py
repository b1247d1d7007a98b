from django.urls import reverse

from sensorgrid.tenancy.models import Membership, Role

URL = "/api/v1/memberships/"


def alice_membership(world) -> Membership:
    return Membership.objects.get(user=world.alice, organization=world.org_a)


def test_an_owner_adds_a_member_by_username(world, client_for):
    response = client_for(world.alice).post(
        URL, {"organization": world.org_a.pk, "user": "dave", "role": "inspector"}, format="json"
    )
    assert response.status_code == 201, response.content
    # dave now sees org A's private site
    sites = client_for(world.dave).get("/api/v1/sites/").json()["results"]
    assert world.site_a.pk in {s["id"] for s in sites}


def test_unknown_usernames_and_duplicates_are_named(world, client_for):
    client = client_for(world.alice)
    unknown = client.post(URL, {"organization": world.org_a.pk, "user": "nobody"}, format="json")
    assert unknown.status_code == 400 and "user" in unknown.json()
    twice = client.post(URL, {"organization": world.org_a.pk, "user": "bob"}, format="json")
    assert twice.status_code == 400
    assert "already a member" in twice.json()["user"][0]


def test_an_unknown_role_is_refused(world, client_for):
    response = client_for(world.alice).post(
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
