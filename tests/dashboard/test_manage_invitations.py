"""Inviting by e-mail (Django test client, mails from the locmem backend): owners
invite, the link works once and until it expires, creates the account or adds an
existing one after signing in, and only for the invited address. Inspectors and
strangers cannot invite; a link that reaches another account adds nobody."""

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from sensorgrid.tenancy.models import Invitation, Membership, Role, User
from tests.support.invitations import link_in_last_mail

pytestmark = pytest.mark.django_db


def body(response) -> str:
    return response.content.decode()


def role_of(user, organization) -> str | None:
    membership = Membership.objects.filter(user=user, organization=organization).first()
    return membership.role if membership else None


def invite(client: Client, organization, email: str, role: str = "inspector"):
    return client.post(
        f"/organizations/{organization.pk}/invite/",
        {"invite-email": email, "invite-role": role},
    )


@pytest.fixture
def alice(world, client):
    client.force_login(world.alice)
    return client


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def new_account(path: str, username: str = "carol") -> Client:
    client = Client()
    response = client.post(
        path,
        {
            "username": username,
            "password1": "a long Pass phrase 9",
            "password2": "a long Pass phrase 9",
        },
    )
    assert response.status_code == 302 and response.url == "/sites/", body(response)
    return client


def test_alice_invites_carol_who_creates_her_account_from_the_mail(world, alice):
    response = invite(alice, world.org_a, "carol@example.org")
    assert response.status_code == 302
    assert "Invitation sent to carol@example.org" in body(alice.get(response.url))
    assert 'data-invitation="carol@example.org"' in body(alice.get(response.url))
    message = mail.outbox[-1]
    assert message.subject == "Invitation to Org A on SensorGrid"
    assert "alice invites you to join Org A" in message.body
    path = link_in_last_mail("carol@example.org")
    # the link carries the token; only its digest is stored
    token = path.split("/")[2]
    assert not Invitation.objects.filter(digest__contains=token).exists()

    page = body(Client().get(path))
    assert "Create your account" in page and "carol@example.org" in page
    carol = new_account(path)
    user = User.objects.get(username="carol")
    assert user.email == "carol@example.org" and user.check_password("a long Pass phrase 9")
    assert role_of(user, world.org_a) == Role.INSPECTOR
    sites = body(carol.get("/sites/"))
    assert "secretA site" in sites and "secretB" not in sites
    assert 'data-invitation="carol@example.org"' not in body(alice.get(response.url))


def test_the_link_works_once(world, alice):
    invite(alice, world.org_a, "carol@example.org")
    path = link_in_last_mail("carol@example.org")
    new_account(path)
    again = Client().post(
        path, {"username": "mallory", "password1": "x long Pass 99", "password2": "x long Pass 99"}
    )
    assert again.status_code == 410 and "does not work" in body(again)
    assert not User.objects.filter(username="mallory").exists()
    assert signed_in(User.objects.get(username="carol")).get(path).status_code == 410


def test_an_expired_link_does_not_work(world, alice, settings):
    settings.SENSORGRID_INVITATION_TTL_HOURS = 1
    invite(alice, world.org_a, "carol@example.org")
    path = link_in_last_mail("carol@example.org")
    invitation = Invitation.objects.get()
    assert timedelta(minutes=59) < invitation.expires_at - timezone.now() <= timedelta(hours=1)
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert Client().get(path).status_code == 410
    response = Client().post(
        path, {"username": "carol", "password1": "a long Pass 9", "password2": "a long Pass 9"}
    )
    assert response.status_code == 410 and not User.objects.filter(username="carol").exists()


def test_unknown_and_withdrawn_links_look_the_same(world, alice):
    assert Client().get("/invite/sgi_nothing/").status_code == 410
    invite(alice, world.org_a, "carol@example.org")
    path = link_in_last_mail("carol@example.org")
    invitation = Invitation.objects.get()
    assert signed_in(world.bob).post(f"/invitations/{invitation.pk}/withdraw/").status_code == 403
    assert (
        signed_in(world.charlie).post(f"/invitations/{invitation.pk}/withdraw/").status_code == 404
    )
    assert Client().get(path).status_code == 200
    alice.post(f"/invitations/{invitation.pk}/withdraw/")
    assert Client().get(path).status_code == 410


def test_a_new_invitation_replaces_the_pending_one(world, alice):
    invite(alice, world.org_a, "carol@example.org")
    first = link_in_last_mail("carol@example.org")
    invite(alice, world.org_a, "carol@example.org", "owner")
    second = link_in_last_mail("carol@example.org")
    assert Client().get(first).status_code == 410
    new_account(second)
    assert role_of(User.objects.get(username="carol"), world.org_a) == Role.OWNER


def test_an_existing_user_signs_in_and_joins(world, alice):
    invite(alice, world.org_a, "charlie@example.org", "owner")
    path = link_in_last_mail("charlie@example.org")
    page = body(Client().get(path))
    assert "Sign in to accept" in page and f"/login/?next={path}" in page
    assert "Create your account" not in page
    # nobody creates a second account for an address that has one
    Client().post(
        path, {"username": "x", "password1": "a long Pass 9", "password2": "a long Pass 9"}
    )
    assert not User.objects.filter(username="x").exists()
    charlie = signed_in(world.charlie)
    assert "Join Org A" in body(charlie.get(path))
    assert role_of(world.charlie, world.org_a) is None  # a GET joins nobody
    response = charlie.post(path)
    assert response.status_code == 302 and response.url == "/sites/"
    assert role_of(world.charlie, world.org_a) == Role.OWNER
    assert role_of(world.charlie, world.org_b) == Role.OWNER


def test_a_link_opened_by_another_account_adds_nobody(world, alice):
    """bob (inspector of A) got hold of an invitation of charlie's address into A, and
    of one of erin's into B: neither makes bob anything, and both still work for them."""
    invite(alice, world.org_a, "charlie@example.org", "owner")
    into_a = link_in_last_mail("charlie@example.org")
    invite(signed_in(world.charlie), world.org_b, "erin@example.org", "owner")
    into_b = link_in_last_mail("erin@example.org")
    bob = signed_in(world.bob)
    for path in (into_a, into_b):
        assert bob.get(path).status_code == 403
        assert bob.post(path).status_code == 403
    assert role_of(world.bob, world.org_a) == Role.INSPECTOR
    assert role_of(world.bob, world.org_b) is None
    assert signed_in(world.charlie).post(into_a).status_code == 302
    new_account(into_b, "erin")


def test_inspectors_and_strangers_cannot_invite(world):
    bob = signed_in(world.bob)
    assert invite(bob, world.org_a, "mallory@example.org", "owner").status_code == 403
    charlie = signed_in(world.charlie)
    assert invite(charlie, world.org_a, "mallory@example.org", "owner").status_code == 404
    assert Client().post(f"/organizations/{world.org_a.pk}/invite/").status_code == 302  # login
    assert not mail.outbox and not Invitation.objects.exists()


def test_a_member_is_not_invited_again_and_a_bad_address_is_refused(world, alice):
    response = invite(alice, world.org_a, "bob@example.org")
    assert response.status_code == 400 and "is a member already" in body(response)
    response = invite(alice, world.org_a, "not an address")
    assert response.status_code == 400 and "Enter a valid email address" in body(response)
    assert not mail.outbox


def test_the_new_account_form_checks_username_and_password(world, alice):
    invite(alice, world.org_a, "carol@example.org")
    path = link_in_last_mail("carol@example.org")
    taken = Client().post(
        path, {"username": "bob", "password1": "a long Pass 9", "password2": "a long Pass 9"}
    )
    assert taken.status_code == 200 and "already exists" in body(taken)
    weak = Client().post(path, {"username": "carol", "password1": "123", "password2": "123"})
    assert weak.status_code == 200 and "too short" in body(weak)
    assert not User.objects.filter(username="carol").exists()
    assert Invitation.objects.pending().count() == 1


def test_the_demo_prints_the_link_when_mail_goes_to_files(world, alice, settings, caplog):
    settings.SENSORGRID_EMAIL_BACKEND = "file"
    with caplog.at_level("INFO", logger="sensorgrid.tenancy.invitations"):
        invite(alice, world.org_a, "carol@example.org")
    path = link_in_last_mail("carol@example.org")
    assert f"http://testserver{path}" in caplog.text


def test_smtp_mail_never_logs_the_link(world, alice, caplog):
    with caplog.at_level("INFO"):
        invite(alice, world.org_a, "carol@example.org")
    assert link_in_last_mail("carol@example.org") not in caplog.text


def test_the_link_names_the_public_address_when_one_is_set(world, alice, settings):
    settings.SENSORGRID_BASE_URL = "https://grid.example.org/"
    invite(alice, world.org_a, "carol@example.org")
    assert "https://grid.example.org/invite/sgi_" in mail.outbox[-1].body


def test_a_demoted_owner_cannot_come_back_through_his_own_invitation(world, alice):
    # Alice invites a second address of hers as owner, is demoted, then opens the link.
    invite(alice, world.org_a, "alice.other@example.org", role="owner")
    path = link_in_last_mail("alice.other@example.org")
    Membership.objects.filter(user=world.alice, organization=world.org_a).update(
        role=Role.INSPECTOR
    )
    response = Client().get(path)
    assert response.status_code == 410 and "does not work" in body(response)
    assert not User.objects.filter(email="alice.other@example.org").exists()
