"""Organizations and their members: list, create, rename and retention, roles, removal.

Anybody signed in may found an organization (and is its first owner), as in the API.
Owners change an organization and its memberships; inspectors see the same pages
without forms; for everybody else an organization's URLs are the 404. Nobody changes
his own role, and no change leaves an organization without an owner (the API's rules,
``tenancy.api``), checked again inside the transaction.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Count
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from rest_framework import serializers

from sensorgrid.dashboard.manage.access import may_change, member_object_or_404, require_change
from sensorgrid.dashboard.manage.api_form import messages as problems
from sensorgrid.dashboard.manage.organization_forms import (
    IngestKeyForm,
    InviteForm,
    OrganizationForm,
    RoleForm,
)
from sensorgrid.dashboard.manage.pages import form_page
from sensorgrid.ingest.models import IngestKey
from sensorgrid.tenancy.api.serializers import ensure_other_owner, ensure_owners_remain
from sensorgrid.tenancy.models import Membership, Organization, Role
from sensorgrid.tenancy.scoping import Action, organization_ids
from sensorgrid.tenancy.time_zones import time_zone_of

CRUMBS = [("Organizations", "/organizations/")]


def organization_of(request, pk: int) -> Organization:
    return member_object_or_404(Organization.objects.all(), request.user, pk)


def membership_of(request, pk: int) -> Membership:
    queryset = Membership.objects.select_related("user", "organization")
    return member_object_or_404(queryset, request.user, pk)


@login_required
def organizations_page(request):
    organizations = (
        Organization.objects.filter(organization_ids(request.user).q("pk"))
        .annotate(members=Count("memberships"))
        .order_by("name", "pk")
    )
    roles = dict(
        Membership.objects.filter(user=request.user).values_list("organization_id", "role")
    )
    rows = [
        {"organization": o, "role": Role(roles[o.pk]).label if o.pk in roles else "Operator"}
        for o in organizations
    ]
    return render(request, "dashboard/manage/organizations.html", {"rows": rows})


@login_required
def organization_new(request):
    form = OrganizationForm(request.POST or None, request=request)
    if request.method == "POST" and form.is_valid():
        organization = form.save()
        return redirect("dashboard:organization", pk=organization.pk)
    return form_page(
        request,
        form,
        title="New organization",
        submit="Create organization",
        cancel=reverse("dashboard:organizations"),
        crumbs=CRUMBS,
        intro="A school, a city department, a company: it owns sites, nodes and data. "
        "You become its first owner and can invite colleagues.",
    )


@login_required
def organization_page(request, pk: int):
    return render_organization(request, organization_of(request, pk))


def render_organization(request, organization: Organization, status: int = 200, **forms):
    """The organization's page; ``forms`` replace the empty ones (a refused form)."""
    owner = may_change(request.user, organization)
    memberships = list(
        organization.memberships.select_related("user").order_by("user__username", "pk")
    )
    context = {
        "organization": organization,
        "owner": owner,
        "members": [
            {
                "membership": m,
                "role": Role(m.role).label,
                "form": RoleForm(request=request, instance=m)
                if owner and m.user_id != request.user.pk
                else None,
                "me": m.user_id == request.user.pk,
            }
            for m in memberships
        ],
        "crumbs": CRUMBS,
    }
    if owner:
        context["invitations"] = organization.invitations.pending().select_related("invited_by")
        context["invite_form"] = InviteForm(organization=organization)
        context["keys"] = IngestKey.objects.filter(organization=organization).order_by("name")
        context["key_form"] = IngestKeyForm(request=request, organization=organization)
    context.update(forms)
    with timezone.override(time_zone_of(organization)):  # its members' and keys' times
        return render(request, "dashboard/manage/organization.html", context, status=status)


@login_required
def organization_edit(request, pk: int):
    organization = organization_of(request, pk)
    require_change(request.user, organization)
    form = OrganizationForm(request.POST or None, request=request, instance=organization)
    if request.method == "POST" and form.is_valid():
        form.save()
        return redirect("dashboard:organization", pk=organization.pk)
    return form_page(
        request,
        form,
        title=f"Edit {organization.name}",
        submit="Save organization",
        cancel=reverse("dashboard:organization", args=[organization.pk]),
        crumbs=[*CRUMBS, (organization.name, reverse("dashboard:organization", args=[pk]))],
    )


@login_required
@require_POST
def member_role(request, pk: int):
    membership = membership_of(request, pk)
    require_change(request.user, membership)
    form = RoleForm(request.POST, request=request, instance=membership)
    if form.is_valid():
        try:
            with transaction.atomic():
                form.save()
                ensure_owners_remain({membership.organization_id})
        except serializers.ValidationError as refused:  # two owners demoting each other
            form.add_error(None, " ".join(problems(refused.detail)))
        else:
            messages.success(request, f"{membership.user.username} is now {form['role'].value()}.")
            return redirect("dashboard:organization", pk=membership.organization_id)
    for problem in form.errors.values():
        for message in problem:
            messages.error(request, f"{membership.user.username}: {message}")
    return redirect("dashboard:organization", pk=membership.organization_id)


@login_required
def member_remove(request, pk: int):
    """GET: what removing takes away; POST: remove (oneself too: leaving), never the
    last owner."""
    membership = membership_of(request, pk)
    require_change(request.user, membership)
    organization = membership.organization
    back = reverse("dashboard:organization", args=[organization.pk])
    refused = ""
    if request.method == "POST":
        try:
            with transaction.atomic():
                require_change(request.user, membership)
                if membership.role == Role.OWNER:
                    ensure_other_owner(membership)
                membership.delete()
                ensure_owners_remain({organization.pk})
        except serializers.ValidationError as problem:
            refused = " ".join(problems(problem.detail))
        else:
            messages.success(request, f"{membership.user.username} is no longer a member.")
            if organization.pk in organization_ids(request.user, Action.VIEW):
                return redirect(back)
            return redirect("dashboard:organizations")
    context = {"membership": membership, "cancel": back, "refused": refused, "crumbs": CRUMBS}
    status = 409 if refused else 200
    return render(request, "dashboard/manage/member_remove.html", context, status=status)
