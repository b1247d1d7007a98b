"""Inviting by e-mail, withdrawing an invitation, and accepting one from its link.

Only owners invite (inspectors: 403, strangers: 404). The link's page is open to
anybody who has it, since the invited person may have no account yet:

- nobody signed in, no account with the invited address: choose a username and a
  password; the account is made with the invited address and joins at once;
- nobody signed in, an account with that address exists: sign in first (the link is
  the ``next`` page);
- signed in with the invited address: a button joins; with another address: 403,
  so a link that reaches the wrong person's account adds nobody.

Used, expired, withdrawn and unknown links all get the same 410 page.
"""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from sensorgrid.dashboard.manage.access import member_object_or_404, require_change
from sensorgrid.dashboard.manage.organization_forms import AccountForm, InviteForm
from sensorgrid.dashboard.manage.organization_pages import organization_of, render_organization
from sensorgrid.tenancy import invitations
from sensorgrid.tenancy.models import Invitation, Role

#: The session login after the new account's form (it has just chosen its password).
LOGIN_BACKEND = "django.contrib.auth.backends.ModelBackend"


@login_required
@require_POST
def invite(request, pk: int):
    organization = organization_of(request, pk)
    require_change(request.user, organization)
    form = InviteForm(request.POST, organization=organization)
    if not form.is_valid():
        return render_organization(request, organization, status=400, invite_form=form)
    invitation, token = invitations.issue(
        organization, form.cleaned_data["email"], form.cleaned_data["role"], request.user
    )
    invitations.mail(request, invitation, token)
    messages.success(
        request,
        f"Invitation sent to {invitation.email}; the link works once, until "
        f"{invitation.expires_at:%Y-%m-%d %H:%M} UTC.",
    )
    return redirect("dashboard:organization", pk=organization.pk)


@login_required
@require_POST
def invitation_withdraw(request, pk: int):
    queryset = Invitation.objects.pending().select_related("organization")
    invitation = member_object_or_404(queryset, request.user, pk)
    require_change(request.user, invitation.organization)
    invitation.delete()
    messages.success(request, f"The invitation of {invitation.email} no longer works.")
    return redirect("dashboard:organization", pk=invitation.organization_id)


def _unusable(request):
    return render(request, "dashboard/manage/invitation_unusable.html", status=410)


@never_cache
def invitation_page(request, token: str):
    try:
        invitation = invitations.find(token)
    except invitations.InvitationUnusable:
        return _unusable(request)
    context = {"invitation": invitation, "role": Role(invitation.role).label}
    user = request.user
    if user.is_authenticated:
        if not invitations.addressed_to(invitation, user):
            return render(request, "dashboard/manage/invitation_other.html", context, status=403)
        if request.method == "POST":
            try:
                invitations.accept(token, user)
            except invitations.InvitationUnusable:
                return _unusable(request)
            return redirect("dashboard:sites")
        return render(request, "dashboard/manage/invitation.html", context)
    if invitations.account_exists(invitation):
        login_url = f"{reverse('dashboard:login')}?next={request.path}"
        context["login_url"] = login_url
        return render(request, "dashboard/manage/invitation.html", context)
    form = AccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            new = invitations.create_account_and_accept(
                token, form.cleaned_data["username"], form.cleaned_data["password1"]
            )
        except invitations.InvitationUnusable:
            return _unusable(request)
        login(request, new, backend=LOGIN_BACKEND)
        return redirect("dashboard:sites")
    context["form"] = form
    return render(request, "dashboard/manage/invitation.html", context)
