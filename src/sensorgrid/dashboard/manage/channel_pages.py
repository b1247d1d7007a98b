"""Alert channels: the list, create (a webhook's signing secret shown once), edit,
delete after confirmation. Rules choose channels on the rule form.

Owners change their organizations' channels; inspectors see the list without
buttons (addresses and URLs, never secrets: ``public_config``, as the API shows them);
strangers get the 404.
"""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache

from sensorgrid.alerts.channels import public_config
from sensorgrid.alerts.models import Channel, ChannelKind
from sensorgrid.dashboard.manage.access import (
    member_object_or_404,
    member_rows,
    owned_organizations,
    require_change,
    require_some_organization,
)
from sensorgrid.dashboard.manage.channel_forms import ChannelForm
from sensorgrid.dashboard.manage.pages import confirm_delete, form_page
from sensorgrid.tenancy.scoping import Action, organization_ids

CRUMBS = [("Alert channels", "/alert-channels/")]


def target(channel: Channel) -> str:
    """Where a channel sends, as anybody who sees it may read it (no secrets)."""
    config = public_config(channel.kind, channel.config)
    if channel.kind == ChannelKind.EMAIL:
        return ", ".join(config.get("to", []))
    if channel.kind == ChannelKind.MQTT:
        return f"{config.get('url', '')} → {config.get('topic', '')}"
    return str(config.get("url", ""))


@login_required
def channels_page(request):
    owned = organization_ids(request.user, Action.CHANGE)
    channels = (
        member_rows(Channel, request.user)
        .select_related("organization")
        .order_by("organization__name", "name", "pk")
    )
    rows = [
        {"channel": c, "target": target(c), "owner": c.organization_id in owned} for c in channels
    ]
    context = {"rows": rows, "can_create": owned_organizations(request.user).exists()}
    return render(request, "dashboard/manage/channels.html", context)


@never_cache
@login_required
def channel_new(request):
    require_some_organization(request.user)
    form = ChannelForm(request.POST or None, request=request)
    if request.method == "POST" and form.is_valid():
        channel = form.save()
        assert isinstance(channel, Channel)
        if channel.kind == ChannelKind.WEBHOOK:  # its signing secret, once
            context = {"channel": channel, "secret": channel.secret}
            return render(request, "dashboard/manage/channel_secret.html", context)
        return redirect("dashboard:channels")
    return form_page(
        request,
        form,
        title="New alert channel",
        submit="Create channel",
        cancel=reverse("dashboard:channels"),
        crumbs=CRUMBS,
        intro="Where alert notifications go: e-mail addresses, a webhook or an MQTT "
        "topic. Fill in the fields of the kind you choose; rules then pick channels.",
    )


@login_required
def channel_edit(request, pk: int):
    channel = member_object_or_404(Channel.objects.select_related("organization"), request.user, pk)
    require_change(request.user, channel)
    form = ChannelForm(request.POST or None, request=request, instance=channel)
    if request.method == "POST" and form.is_valid():
        form.save()
        return redirect("dashboard:channels")
    return form_page(
        request,
        form,
        title=f"Edit {channel.name}",
        submit="Save channel",
        cancel=reverse("dashboard:channels"),
        crumbs=CRUMBS,
    )


@login_required
def channel_delete(request, pk: int):
    channel = member_object_or_404(Channel.objects.all(), request.user, pk)
    rules = channel.rules.count()
    return confirm_delete(
        request,
        channel,
        kind="alert channel",
        consequences=[
            f"its place in {rules} alert rule{'' if rules == 1 else 's'} "
            "(the rules stay and notify through their other channels)",
            "its deliveries not sent yet, and the record of those sent",
            "data forwarders that send through it",
        ],
        cancel=reverse("dashboard:channels"),
        done=reverse("dashboard:channels"),
    )
