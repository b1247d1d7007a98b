"""Sites and their rooms: the list, create, edit, delete (with confirmation)."""

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from sensorgrid.dashboard.manage.access import (
    member_object_or_404,
    member_rows,
    owned_organizations,
    require_change,
    require_some_organization,
)
from sensorgrid.dashboard.manage.forms import RoomForm, SiteForm
from sensorgrid.dashboard.manage.pages import confirm_delete, form_page
from sensorgrid.inventory.models import Installation, Room, Site
from sensorgrid.tenancy.scoping import Action, organization_ids


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


@login_required
def sites_page(request):
    """The sites of the user's organizations, each with its rooms; owners add and edit."""
    now = timezone.now()
    active = Q(installations__start__lte=now) & (
        Q(installations__end__isnull=True) | Q(installations__end__gt=now)
    )
    sites = (
        member_rows(Site, request.user)
        .select_related("organization")
        .order_by("organization__name", "name", "pk")
    )
    rooms = (
        Room.objects.filter(site__in=sites)
        .annotate(installed=Count("installations", filter=active))
        .order_by("name", "pk")
    )
    by_site: dict[int, list[Room]] = {}
    for room in rooms:
        by_site.setdefault(room.site_id, []).append(room)
    owned = organization_ids(request.user, Action.CHANGE)
    context = {
        "sites": [
            {
                "site": site,
                "rooms": by_site.get(site.pk, []),
                "owner": site.organization_id in owned,
            }
            for site in sites
        ],
        "can_create": owned_organizations(request.user).exists(),
    }
    return render(request, "dashboard/manage/sites.html", context)


def _site_crumbs(site: Site | None = None) -> list[tuple[str, str]]:
    crumbs = [("Sites", reverse("dashboard:sites"))]
    if site is not None:
        crumbs.append((site.name, reverse("dashboard:site", args=[site.pk])))
    return crumbs


@login_required
def site_new(request):
    require_some_organization(request.user)
    form = SiteForm(request.POST or None, request=request)
    if request.method == "POST" and form.is_valid():
        site = form.save()
        return redirect("dashboard:site", pk=site.pk)
    return form_page(
        request,
        form,
        title="New site",
        submit="Create site",
        cancel=reverse("dashboard:sites"),
        crumbs=_site_crumbs(),
        intro="A building or a place with an address; rooms go inside it.",
    )


@login_required
def site_edit(request, pk: int):
    site = member_object_or_404(Site.objects.select_related("organization"), request.user, pk)
    require_change(request.user, site)
    form = SiteForm(request.POST or None, request=request, instance=site)
    if request.method == "POST" and form.is_valid():
        form.save()
        return redirect("dashboard:site", pk=site.pk)
    return form_page(
        request,
        form,
        title=f"Edit {site.name}",
        submit="Save site",
        cancel=reverse("dashboard:site", args=[site.pk]),
        crumbs=_site_crumbs(site),
    )


@login_required
def site_delete(request, pk: int):
    site = member_object_or_404(Site.objects.all(), request.user, pk)
    rooms = site.rooms.count()
    installations = Installation.objects.filter(room__site=site).count()
    return confirm_delete(
        request,
        site,
        kind="site",
        consequences=[
            f"its {_plural(rooms, 'room')}",
            f"{_plural(installations, 'installation')} (past and present) in them; "
            "the nodes and their data stay",
            "alert rules that watch this site or one of its rooms",
        ],
        cancel=reverse("dashboard:site", args=[site.pk]),
        done=reverse("dashboard:sites"),
    )


@login_required
def room_new(request, pk: int):
    site = member_object_or_404(Site.objects.all(), request.user, pk)
    require_change(request.user, site)
    form = RoomForm(request.POST or None, request=request, site=site)
    if request.method == "POST" and form.is_valid():
        form.save()
        return redirect("dashboard:site", pk=site.pk)
    return form_page(
        request,
        form,
        title=f"New room in {site.name}",
        submit="Create room",
        cancel=reverse("dashboard:site", args=[site.pk]),
        crumbs=_site_crumbs(site),
    )


@login_required
def room_edit(request, pk: int):
    room = member_object_or_404(Room.objects.select_related("site"), request.user, pk)
    require_change(request.user, room)
    form = RoomForm(request.POST or None, request=request, site=room.site, instance=room)
    if request.method == "POST" and form.is_valid():
        form.save()
        return redirect("dashboard:room", pk=room.pk)
    return form_page(
        request,
        form,
        title=f"Edit {room.name}",
        submit="Save room",
        cancel=reverse("dashboard:room", args=[room.pk]),
        crumbs=[*_site_crumbs(room.site), (room.name, reverse("dashboard:room", args=[room.pk]))],
    )


@login_required
def room_delete(request, pk: int):
    room = member_object_or_404(Room.objects.select_related("site"), request.user, pk)
    installations = room.installations.count()
    return confirm_delete(
        request,
        room,
        kind="room",
        consequences=[
            f"{_plural(installations, 'installation')} (past and present) in it; "
            "the nodes and their data stay",
            "alert rules that watch this room",
        ],
        cancel=reverse("dashboard:room", args=[room.pk]),
        done=reverse("dashboard:site", args=[room.site_id]),
    )
