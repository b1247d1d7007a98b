"""Nodes: register (the credential shown once), settings, rotate, disable, delete.

A credential is rendered in the answer to the POST that issued it, never kept (only
its digest is stored) and never cached, as on the API tokens page. A disabled node is
one without a credential: its device can no longer authenticate (HTTP, MQTT);
enabling it issues a new credential.
"""

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from sensorgrid.dashboard.manage import connect, connect_status
from sensorgrid.dashboard.manage.access import (
    may_change,
    member_object_or_404,
    require_change,
    require_some_organization,
)
from sensorgrid.dashboard.manage.forms import NodeForm
from sensorgrid.dashboard.manage.installation_forms import EndForm, InstallForm, MoveForm
from sensorgrid.dashboard.manage.pages import confirm_delete, form_page
from sensorgrid.inventory.models import Installation, Node

CREDENTIAL_WHY = {
    "created": "The node is registered.",
    "rotated": "The old credential stopped working just now.",
    "enabled": "The node is enabled again, with a new credential.",
}


def node_of(request, pk: int) -> Node:
    queryset = Node.objects.select_related("organization", "model")
    return member_object_or_404(queryset, request.user, pk)


def show_credential(request, node: Node, credential: str, why: str):
    """The one answer that carries a credential (not cached, not stored)."""
    context = {
        "node": node,
        "credential": credential,
        "why": CREDENTIAL_WHY[why],
        # The Connect panel with the real credential in its commands, this once.
        "panel": connect.panel(request, node, credential),
        "status": connect_status.status(node),
    }
    return render(request, "dashboard/manage/credential.html", context)


@never_cache
@login_required
def node_new(request):
    require_some_organization(request.user)
    form = NodeForm(request.POST or None, request=request)
    if request.method == "POST" and form.is_valid():
        node = form.save()
        assert isinstance(node, Node) and form.credential is not None
        return show_credential(request, node, form.credential, "created")
    return form_page(
        request,
        form,
        title="New node",
        submit="Create node",
        cancel=reverse("dashboard:sites"),
        crumbs=[("Sites", reverse("dashboard:sites"))],
        intro="A device that sends measurements. Its ingest credential is shown once "
        "after it is created.",
    )


@login_required
def node_settings(request, pk: int):
    """Settings and installations of a node: forms for owners, the facts for inspectors."""
    node = node_of(request, pk)
    owner = may_change(request.user, node)
    form = NodeForm(request.POST or None, request=request, instance=node) if owner else None
    if request.method == "POST":
        require_change(request.user, node)
        assert form is not None
        if form.is_valid():
            form.save()
            return redirect("dashboard:node-settings", pk=node.pk)
    return render(request, "dashboard/manage/node_settings.html", _context(request, node, form))


def _context(request, node: Node, form: NodeForm | None, **forms) -> dict:
    owner = form is not None
    installations = list(
        Installation.objects.filter(node=node).select_related("room__site").order_by("-start")
    )
    current = Installation.objects.filter(node=node).active().first()
    context = {
        "node": node,
        "owner": owner,
        "form": form,
        "installations": installations,
        "current": current,
        "enabled": bool(node.credential_digest),
    }
    if owner:
        context["install_form"] = InstallForm(request=request, node=node)
        if current is not None:
            context["move_form"] = MoveForm(request=request, current=current)
            context["end_form"] = EndForm(request=request, instance=current)
    context.update(forms)
    return context


@never_cache
@login_required
@require_POST
def node_rotate(request, pk: int):
    node = node_of(request, pk)
    require_change(request.user, node)
    with transaction.atomic():
        credential = node.issue_credential()
        node.save(update_fields=["credential_digest"])
    return show_credential(request, node, credential, "rotated")


@login_required
@require_POST
def node_disable(request, pk: int):
    node = node_of(request, pk)
    require_change(request.user, node)
    node.credential_digest = ""
    node.save(update_fields=["credential_digest"])  # clears the credential caches
    return redirect("dashboard:node-settings", pk=node.pk)


@never_cache
@login_required
@require_POST
def node_enable(request, pk: int):
    node = node_of(request, pk)
    require_change(request.user, node)
    if node.credential_digest:  # enabled already: nothing to show, nothing to rotate
        return redirect("dashboard:node-settings", pk=node.pk)
    credential = node.issue_credential()
    node.save(update_fields=["credential_digest"])
    return show_credential(request, node, credential, "enabled")


@login_required
def node_delete(request, pk: int):
    node = node_of(request, pk)
    return confirm_delete(
        request,
        node,
        kind="node",
        consequences=[
            "all its measurements and radio receptions (dead letters stay, without it)",
            f"its {node.installations.count()} installation(s), past and present",
            "its alerts and the alert rules that watch only this node",
            "its credential: the device can no longer send",
        ],
        cancel=reverse("dashboard:node-settings", args=[node.pk]),
        done=reverse("dashboard:map"),
    )


def settings_page_with(request, node: Node, **forms):
    """The settings page again, with a refused installation form and its errors."""
    form = NodeForm(request=request, instance=node)
    context = _context(request, node, form, **forms)
    return render(request, "dashboard/manage/node_settings.html", context)


@login_required
@require_POST
def node_install(request, pk: int):
    node = node_of(request, pk)
    require_change(request.user, node)
    form = InstallForm(request.POST, request=request, node=node)
    if form.is_valid():
        form.save()
        return redirect("dashboard:node-settings", pk=node.pk)
    return settings_page_with(request, node, install_form=form)


@login_required
@require_POST
def node_move(request, pk: int):
    node = node_of(request, pk)
    require_change(request.user, node)
    current = Installation.objects.filter(node=node).active().first()
    if current is None:  # ended meanwhile: install instead
        return redirect("dashboard:node-settings", pk=node.pk)
    form = MoveForm(request.POST, request=request, current=current)
    if form.is_valid() and form.move() is not None:
        return redirect("dashboard:node-settings", pk=node.pk)
    return settings_page_with(request, node, move_form=form)


@login_required
@require_POST
def installation_end(request, pk: int):
    installation = member_object_or_404(
        Installation.objects.select_related("node"), request.user, pk
    )
    node = installation.node
    require_change(request.user, node)
    form = EndForm(request.POST, request=request, instance=installation)
    if form.is_valid():
        form.save()
        return redirect("dashboard:node-settings", pk=node.pk)
    return settings_page_with(request, node, end_form=form)
