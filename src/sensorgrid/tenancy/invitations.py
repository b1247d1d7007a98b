"""Invitations into an organization: the only way an owner brings somebody in (the
dashboard's invite form and ``POST /api/v1/invitations/``), and accepting one (the
link's page in the dashboard and ``POST /api/v1/invitations/accept/``).

Nobody becomes a member without consent: an owner names an e-mail address, the link
goes there, and only the account with that address joins, by accepting. The answer to
the owner is the same whether an account with the address exists or not, so inviting
reveals no account.

The link carries a random token (256 bits); only its SHA-256 digest is stored (as for
API tokens), so a copy of the table opens nothing. Accepting locks the invitation row,
so the same link used twice at once makes one membership, and checks that the invited
address is the accepting account's: a link forwarded to (or stolen by) somebody else's
account is refused.
"""

import hashlib
import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from sensorgrid.tenancy.models import Invitation, Membership, Organization, Role, User

log = logging.getLogger(__name__)

TOKEN_PREFIX = "sgi_"


def digest(token: str) -> str:
    """What is stored of a token: its SHA-256 (the token is random, no salt needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue(organization: Organization, email: str, role: str, by: User) -> tuple[Invitation, str]:
    """A new invitation and its token (never stored). Earlier pending invitations of the
    same address into the same organization stop working: the newest link is the one."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    hours = settings.SENSORGRID_INVITATION_TTL_HOURS
    with transaction.atomic():
        Invitation.objects.pending().filter(organization=organization, email__iexact=email).delete()
        invitation = Invitation.objects.create(
            organization=organization,
            email=email,
            role=role,
            digest=digest(token),
            invited_by=by,
            expires_at=timezone.now() + timedelta(hours=hours),
        )
    return invitation, token


def link(request, token: str) -> str:
    """The link in the mail: under SENSORGRID_BASE_URL when set (behind a proxy the
    request's own host may be an internal one), else the host the owner used."""
    path = reverse("dashboard:invitation", args=[token])
    base = settings.SENSORGRID_BASE_URL.rstrip("/")
    return f"{base}{path}" if base else request.build_absolute_uri(path)


def mail(request, invitation: Invitation, token: str) -> str:
    """Send the invitation through the configured e-mail backend; returns the link."""
    url = link(request, token)
    inviter = invitation.invited_by
    who = (inviter.get_full_name() or inviter.username) if inviter else "An owner"
    role = Role(invitation.role).label
    send_mail(
        subject=f"Invitation to {invitation.organization.name} on SensorGrid",
        message=(
            f"{who} invites you to join {invitation.organization.name} on SensorGrid "
            f"as {role}.\n\n"
            f"Open this link to accept (it works once, until "
            f"{invitation.expires_at:%Y-%m-%d %H:%M} UTC):\n\n{url}\n\n"
            "Without an account you choose a username and a password there; with one, "
            "you sign in with it. If you did not expect this, ignore this mail.\n"
        ),
        from_email=None,
        recipient_list=[invitation.email],
    )
    if settings.SENSORGRID_EMAIL_BACKEND == "file":
        # The demo (mail written to files): say where to click. Never for SMTP, where
        # the link is a secret of the recipient.
        log.info("invitation of %s to %s: %s", invitation.email, invitation.organization, url)
    return url


class InvitationUnusable(Exception):
    """The link is unknown, used or expired (the answer does not say which)."""


def find(token: str) -> Invitation:
    """The usable invitation of ``token``; ``InvitationUnusable`` otherwise."""
    invitation = (
        Invitation.objects.pending()
        .select_related("organization", "invited_by")
        .filter(digest=digest(token))
        .first()
    )
    if invitation is None:
        raise InvitationUnusable
    return invitation


def addressed_to(invitation: Invitation, user: User) -> bool:
    return bool(user.email) and user.email.strip().lower() == invitation.email.strip().lower()


def account_exists(invitation: Invitation) -> bool:
    return User.objects.filter(email__iexact=invitation.email.strip()).exists()


def accept(token: str, user: User) -> Membership:
    """Make ``user`` a member as invited (an existing membership keeps its role), once.

    Raises ``InvitationUnusable`` if the link was used or expired meanwhile, and
    ``PermissionError`` if the invitation is for another address.
    """
    with transaction.atomic():
        invitation = (
            Invitation.objects.pending().select_for_update().filter(digest=digest(token)).first()
        )
        if invitation is None:
            raise InvitationUnusable
        if not addressed_to(invitation, user):
            raise PermissionError("This invitation was sent to another e-mail address.")
        membership, _ = Membership.objects.get_or_create(
            organization_id=invitation.organization_id,
            user=user,
            defaults={"role": invitation.role},
        )
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
    return membership


def create_account_and_accept(token: str, username: str, password: str) -> User:
    """A new account for the invited address, then the membership; one transaction."""
    with transaction.atomic():
        invitation = find(token)
        if account_exists(invitation):  # created meanwhile: that person signs in instead
            raise InvitationUnusable
        user = User.objects.create_user(username, email=invitation.email, password=password)
        accept(token, user)
    return user
