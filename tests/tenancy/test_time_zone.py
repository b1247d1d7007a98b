"""Organization.time_zone (issue 19): an IANA name checked against the tz database, the
platform's zone by default, changed by owners through the API and the dashboard."""

import pytest

from sensorgrid.tenancy.models import Organization
from sensorgrid.tenancy.time_zones import time_zone_of

pytestmark = pytest.mark.django_db


def test_a_new_organization_gets_the_platforms_zone(world, client, settings):
    settings.TIME_ZONE = "America/New_York"
    client.force_login(world.dave)
    created = client.post(
        "/api/v1/organizations/",
        {"name": "Fleet", "slug": "fleet"},
        content_type="application/json",
    )
    assert created.status_code == 201, created.json()
    assert created.json()["time_zone"] == "America/New_York"
    assert Organization.objects.get(slug="fleet").time_zone == "America/New_York"


def test_an_owner_sets_the_zone_through_the_api(world, client):
    client.force_login(world.alice)
    url = f"/api/v1/organizations/{world.org_a.pk}/"
    response = client.patch(url, {"time_zone": "Europe/Berlin"}, content_type="application/json")
    assert response.status_code == 200 and response.json()["time_zone"] == "Europe/Berlin"
    world.org_a.refresh_from_db()
    assert world.org_a.time_zone == "Europe/Berlin"


@pytest.mark.parametrize(
    "name", ["Mars/Olympus_Mons", "../../../etc/passwd", "/usr/share/zoneinfo/UTC", "", "CET " * 20]
)
def test_a_name_outside_the_tz_database_is_a_400_naming_the_field(world, client, name):
    client.force_login(world.alice)
    response = client.patch(
        f"/api/v1/organizations/{world.org_a.pk}/",
        {"time_zone": name},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert list(response.json()) == ["time_zone"]
    world.org_a.refresh_from_db()
    assert world.org_a.time_zone == "UTC"


def test_an_inspector_may_not_change_the_zone(world, client):
    client.force_login(world.bob)
    response = client.patch(
        f"/api/v1/organizations/{world.org_a.pk}/",
        {"time_zone": "Asia/Tokyo"},
        content_type="application/json",
    )
    assert response.status_code == 403
    world.org_a.refresh_from_db()
    assert world.org_a.time_zone == "UTC"


def test_time_zone_of_falls_back_to_the_platforms(world, settings):
    settings.TIME_ZONE = "Europe/Lisbon"
    world.org_a.time_zone = "Asia/Kolkata"
    assert time_zone_of(world.org_a) == "Asia/Kolkata"
    world.org_a.time_zone = "No/Such_Zone"  # written around the validation
    assert time_zone_of(world.org_a) == "Europe/Lisbon"
    assert time_zone_of(None) == "Europe/Lisbon"


def test_the_schema_describes_the_field():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    field = schema["components"]["schemas"]["Organization"]["properties"]["time_zone"]
    assert field["type"] == "string" and "IANA" in field["description"]
