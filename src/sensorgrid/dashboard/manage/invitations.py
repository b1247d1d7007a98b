"""Invitations into an organization: find and accept (once, before expiry); issuing
and mailing are ``tenancy.invitations`` (the API invites too), re-exported here.

The link carries a random token (256 bits); only its digest is stored, so the table
opens nothing. Accepting locks the invitation row, so the same link clicked twice at
once makes one membership, and checks that the invited address is the accepting
account's: a link forwarded to (or stolen by) somebody else's account is refused.
"""

from django.db import transaction
from django.utils import timezone

from sensorgrid.tenancy.invitations import TOKEN_PREFIX as TOKEN_PREFIX
from sensorgrid.tenancy.invitations import digest
from sensorgrid.tenancy.invitations import issue as issue
from sensorgrid.tenancy.invitations import link as link
from sensorgrid.tenancy.invitations import mail as mail
from sensorgrid.tenancy.models import Invitation, Membership, User


class InvitationUnusable(Exception):
    """The link is unknown, used or expired (the page does not say which)."""


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
