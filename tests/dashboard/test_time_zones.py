"""Pages of one organization show its times in its time zone (issue 19): the site and room
pages' tiles, the node's tabs (and its chart), the organization page; the footer names
the zone a page speaks; pages of several organizations keep the platform's. Stored times
stay UTC (the datetime attribute carries the offset)."""

from datetime import UTC, datetime

import pytest

from sensorgrid.inventory.models import Quantity
from sensorgrid.telemetry.models import Latest

pytestmark = pytest.mark.django_db

# 12:00 UTC on a summer day: 14:00 in Berlin (CEST), 21:00 in Tokyo.
NOON_UTC = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)


def body(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def berlin(world):
    world.org_a.time_zone = "Europe/Berlin"
    world.org_a.save(update_fields=["time_zone"])
    co2 = Quantity.objects.get(key="co2")
    Latest.objects.create(node=world.node_a, quantity=co2, ts=NOON_UTC, value=700)
    return world


def test_the_room_and_site_pages_show_the_organizations_wall_clock(berlin, client):
    client.force_login(berlin.alice)
    for path in (f"/rooms/{berlin.room_a.pk}/", f"/sites/{berlin.site_a.pk}/"):
        page = body(client.get(path))
        assert '<time datetime="2026-07-01T14:00:00+02:00">2026-07-01 14:00:00</time>' in page
        assert 'data-updated data-time-zone="Europe/Berlin"' in page  # tiles.js follows it
        assert "<span data-page-time-zone>Europe/Berlin</span>" in page, path


def test_pages_of_several_organizations_keep_the_platforms_zone(berlin, client, settings):
    client.force_login(berlin.alice)
    page = body(client.get("/"))
    assert "2026-07-01 12:00:00" in page and "14:00:00" not in page
    assert "<span data-page-time-zone>UTC</span>" in page


def test_another_organizations_zone_does_not_leak_into_mine(berlin, client):
    berlin.org_b.time_zone = "Asia/Tokyo"
    berlin.org_b.save(update_fields=["time_zone"])
    client.force_login(berlin.alice)
    page = body(client.get(f"/rooms/{berlin.room_a.pk}/"))
    assert "Asia/Tokyo" not in page and "21:00:00" not in page


def test_an_owner_chooses_the_zone_in_the_organization_form(world, client):
    client.force_login(world.alice)
    edit = f"/organizations/{world.org_a.pk}/edit/"
    form = body(client.get(edit))
    assert '<option value="Europe/Berlin">Europe/Berlin</option>' in form
    assert '<option value="UTC" selected>UTC</option>' in form
    response = client.post(edit, {"name": "Org A", "time_zone": "Europe/Berlin"})
    assert response.status_code == 302
    world.org_a.refresh_from_db()
    assert world.org_a.time_zone == "Europe/Berlin"
    page = body(client.get(f"/organizations/{world.org_a.pk}/"))
    assert "times in <span data-time-zone>Europe/Berlin</span>" in page
    refused = client.post(edit, {"name": "Org A", "time_zone": "Mars/Olympus_Mons"})
    assert refused.status_code == 200 and "Select a valid choice" in body(refused)
    # A form without the field (an older page) leaves the zone alone.
    client.post(edit, {"name": "Org A"})
    world.org_a.refresh_from_db()
    assert world.org_a.time_zone == "Europe/Berlin"


def test_a_new_organization_starts_in_the_platforms_zone(world, client, settings):
    settings.TIME_ZONE = "Europe/Vienna"
    client.force_login(world.dave)
    form = body(client.get("/organizations/new/"))
    assert '<option value="Europe/Vienna" selected>Europe/Vienna</option>' in form
    client.post("/organizations/new/", {"name": "Vienna Schools"})
    assert world.dave.memberships.get().organization.time_zone == "Europe/Vienna"


def test_the_node_tabs_show_the_organizations_wall_clock(berlin, client):
    from sensorgrid.inventory.models import Node

    Node.objects.filter(pk=berlin.node_a.pk).update(last_seen=NOON_UTC)
    client.force_login(berlin.alice)
    latest = body(client.get(f"/nodes/{berlin.node_a.pk}/"))
    assert "<dt>Last seen</dt><dd><time" in latest
    assert '<time datetime="2026-07-01T14:00:00+02:00">2026-07-01 14:00:00</time>' in latest
    for tab in ("history/", "alerts/", "status/", "radio/", "dead-letters/"):
        page = body(client.get(f"/nodes/{berlin.node_a.pk}/{tab}"))
        assert "<span data-page-time-zone>Europe/Berlin</span>" in page, tab
    # Another organization's node: its own zone (charlie's Org B keeps UTC).
    client.force_login(berlin.charlie)
    other = body(client.get(f"/nodes/{berlin.node_b.pk}/"))
    assert "<span data-page-time-zone>UTC</span>" in other


def test_alert_rows_speak_the_zone_of_the_page_that_shows_them(berlin, client):
    from tests import factories as f

    alert = f.AlertFactory(node=berlin.node_a, opened_at=NOON_UTC)
    client.force_login(berlin.alice)
    berlin_time = "2026-07-01 14:00:00</time>"
    assert berlin_time in body(client.get(f"/nodes/{berlin.node_a.pk}/alerts/"))
    assert "2026-07-01 12:00:00</time>" in body(client.get("/alerts/"))  # several: UTC
    # The live row (alerts.js asks with the page's zone; a name outside the tz database
    # falls back to the platform's).
    row = f"/alerts/{alert.pk}/row/"
    assert berlin_time in body(client.get(row, {"tz": "Europe/Berlin"}))
    assert "12:00:00</time>" in body(client.get(row))
    assert "12:00:00</time>" in body(client.get(row, {"tz": "../../etc/passwd"}))
