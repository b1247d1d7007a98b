"""The fleet view (issue 22): vehicles on a map, live, with their tracks and speeds.

The table is rendered here (it works without JavaScript); ``static/dashboard/fleet.js``
draws the map from ``GET /api/geo/vehicles/`` (the same vehicles: sensorgrid.geo.api.fleet),
moves the markers on live deltas over ``/ws/live/`` and replays a day's track from
``GET /api/geo/vehicles/<id>/track/``. Members see their organizations' vehicles, everybody
the publicly installed ones (docs/dashboard.md, "Fleet").
"""

from django.conf import settings
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from sensorgrid.dashboard.views import map_config
from sensorgrid.geo.api import fleet


def fleet_page(request):
    now = timezone.now()
    found = fleet.vehicles(request.user, now)
    rows = [
        {
            "id": v.node.pk,
            "name": str(v.node) if v.member else v.node.public_label(),
            "organization": v.node.organization.name,
            "url": reverse("dashboard:node", args=[v.node.pk]) if v.member else "",
            "speed": v.latest["speed"][1] if "speed" in v.latest else None,
            "heading": v.latest["heading"][1] if "heading" in v.latest else None,
            "lat": v.latest["latitude"][1],
            "lon": v.latest["longitude"][1],
            "ts": v.ts,
            "online": fleet.online(v.ts, now),
        }
        for v in found
    ]
    context = {
        "vehicles": rows,
        "online_seconds": settings.SENSORGRID_FLEET_ONLINE_SECONDS,
        "config": {
            **map_config(),
            "vehicles_url": reverse("geo-vehicles"),
            "online_seconds": settings.SENSORGRID_FLEET_ONLINE_SECONDS,
            "today": now.date().isoformat(),
            "time_zone": timezone.get_current_timezone_name(),
        },
    }
    return render(request, "dashboard/fleet.html", context)
