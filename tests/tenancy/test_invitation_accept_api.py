"""Accepting an invitation through the API (``POST /api/v1/invitations/accept/``): the
same consent as the link's page, for users who run their fleet from scripts."""

import pytest
from django.urls import reverse
from django.utils import timezone

from sensorgrid.tenancy.models import Invitation, Membership, Role
from tests.support.invitations import link_in_last_mail

INVITATIONS = "/api/v1/invitations/"
ACCEPT = "/api/v1/invitations/accept/"


def invite(client_for, world, email: str, role: str = "inspector") -> str:
    """Alice invites ``email`` into org A; the link of the mail."""
    response = client_for(world.alice).post(
        INVITATIONS, {"organization": world.org_a.pk, "email": email, "role": role}, format="json"
    )
    assert response.status_code == 201, response.content
    return "http://testserver" + link_in_last_mail(email)


def token_of(link: str) -> str:
    return link.rstrip("/").rsplit("/", 1)[-1]


def test_the_invited_person_joins_with_the_token_and_gets_the_invited_role(world, client_for):
    link = invite(client_for, world, "dave@example.org", role="owner")
    dave = client_for(world.dave)
    response = dave.post(ACCEPT, {"token": token_of(link)}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["organization"], body["user"], body["role"]) == (world.org_a.pk, "dave", "owner")
    assert Membership.objects.get(user=world.dave, organization=world.org_a).role == Role.OWNER
    # He now sees the organization as its owner; the invitation is used.
    assert client_for(world.alice).get(INVITATIONS).json()["results"] == []
    again = dave.post(ACCEPT, {"token": token_of(link)}, format="json")
    assert again.status_code == 400 and "token" in again.json()


def test_the_whole_link_from_the_mail_is_accepted_too(world, client_for):
    link = invite(client_for, world, "dave@example.org")
    response = client_for(world.dave).post(ACCEPT, {"token": link}, format="json")
    assert response.status_code == 200, response.content
    assert Membership.objects.filter(user=world.dave, organization=world.org_a).exists()


def test_a_forwarded_link_adds_nobody(world, client_for):
    """Charlie got dave's link: refused, and dave's invitation still works."""
    link = invite(client_for, world, "dave@example.org", role="owner")
    response = client_for(world.charlie).post(ACCEPT, {"token": token_of(link)}, format="json")
    assert response.status_code == 403, response.content
    assert "another e-mail address" in response.json()["detail"]
    assert not Membership.objects.filter(user=world.charlie, organization=world.org_a).exists()
    assert client_for(world.dave).post(ACCEPT, {"token": link}, format="json").status_code == 200


@pytest.mark.parametrize(
    "how", ["unknown", "withdrawn", "expired", "not a token", "empty", "missing"]
)
def test_an_unusable_token_is_one_400_for_every_reason(world, client_for, how):
    link = invite(client_for, world, "dave@example.org")
    token = token_of(link)
    invitation = Invitation.objects.get()
    body = {"token": token}
    if how == "unknown":
        body = {"token": token[:-4] + "AAAA"}
    elif how == "withdrawn":
        detail = reverse("invitation-detail", args=[invitation.pk])
        assert client_for(world.alice).delete(detail).status_code == 204
    elif how == "expired":
        Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())
    elif how == "not a token":
        body = {"token": "../../admin/"}
    elif how == "empty":
        body = {"token": ""}
    else:
        body = {}
    response = client_for(world.dave).post(ACCEPT, body, format="json")
    assert response.status_code == 400, response.content
    assert "token" in response.json()
    assert not Membership.objects.filter(user=world.dave, organization=world.org_a).exists()


def test_accepting_needs_a_signed_in_account(world, client_for):
    link = invite(client_for, world, "dave@example.org")
    response = client_for(None).post(ACCEPT, {"token": token_of(link)}, format="json")
    assert response.status_code in (401, 403)
    assert not Membership.objects.filter(user=world.dave, organization=world.org_a).exists()


def test_a_member_keeps_his_role(world, client_for):
    """An invitation of an existing member (made before he joined) does not change him."""
    link = invite(client_for, world, "dave@example.org", role="owner")
    Membership.objects.create(organization=world.org_a, user=world.dave, role=Role.INSPECTOR)
    response = client_for(world.dave).post(ACCEPT, {"token": token_of(link)}, format="json")
    assert response.status_code == 200 and response.json()["role"] == "inspector"


def test_the_endpoint_is_in_the_api_schema(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/api/v1/invitations/accept/"]["post"]
    assert operation["summary"] == "Accept an invitation"
    assert {"200", "400", "403"} <= set(operation["responses"])
