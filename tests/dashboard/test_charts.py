"""What the node's History tab hands its chart (window, time zone, CO2 bands) and where the CO2
traffic light shows: indoor installations only (issue 19, item 6). The chart itself in a
browser: test_charts_browser.py."""

import json
import re

import pytest
from django.utils import timezone

from sensorgrid.dashboard import views
from sensorgrid.dashboard.views import CO2_GOOD_BELOW, CO2_POOR_ABOVE
from sensorgrid.inventory.models import Quantity
from sensorgrid.telemetry.models import Latest

pytestmark = pytest.mark.django_db


def node_config(client, node) -> dict:
    response = client.get(f"/nodes/{node.pk}/history/")  # the node's History tab
    assert response.status_code == 200
    embedded = r'<script id="node-config" type="application/json">(.*?)</script>'
    match = re.search(embedded, response.content.decode())
    assert match, "the page embeds its chart configuration"
    return json.loads(match.group(1))


def with_co2(node, value: float = 1500) -> None:
    co2 = Quantity.objects.get(key="co2")
    Latest.objects.create(node=node, quantity=co2, ts=timezone.now(), value=value)


def make_outdoor(world) -> None:
    # A schoolyard, a roof terrace: the room says it is outdoors.
    world.room_a.outdoor = True
    world.room_a.save(update_fields=["outdoor"])


def test_the_chart_gets_each_window_and_the_organizations_time_zone(world, client, settings):
    settings.TIME_ZONE = "Europe/Lisbon"  # the platform's: not this organization's
    world.org_a.time_zone = "Europe/Berlin"
    world.org_a.save(update_fields=["time_zone"])
    client.force_login(world.alice)
    config = node_config(client, world.node_a)
    windows = {p["label"]: p["seconds"] for p in config["presets"]}
    assert windows == {"1 h": 3600, "24 h": 86400, "7 d": 7 * 86400, "1 y": 365 * 86400}
    assert config["preset"] == "24 h"
    assert config["time_zone"] == "Europe/Berlin"


def test_an_indoor_co2_chart_gets_the_traffic_light_levels_as_bands(world, client):
    client.force_login(world.alice)
    config = node_config(client, world.node_a)
    assert config["co2_levels"] == {"good_below": CO2_GOOD_BELOW, "poor_above": CO2_POOR_ABOVE}
    assert (CO2_GOOD_BELOW, CO2_POOR_ABOVE) == (1000, 1400)


def test_an_outdoor_station_has_no_traffic_light_and_no_bands(world, client):
    make_outdoor(world)
    with_co2(world.node_a, 1500)
    client.force_login(world.alice)
    config = node_config(client, world.node_a)
    assert config["co2_levels"] is None
    body = client.get(f"/nodes/{world.node_a.pk}/").content.decode()
    assert '<span class="number" data-value>1500</span>' in body
    assert "data-level" not in body and "co2-poor" not in body
    assert f'data-node="{world.node_a.pk}" data-outdoor' in body  # tiles.js keeps it plain


def test_an_indoor_node_keeps_the_traffic_light_on_every_page(world, client):
    with_co2(world.node_a, 1500)
    client.force_login(world.alice)
    for path in ("/", f"/nodes/{world.node_a.pk}/", f"/rooms/{world.room_a.pk}/"):
        body = client.get(path).content.decode()
        assert '<span class="level" data-level>Poor</span>' in body, path
        assert "data-outdoor" not in body, path


def test_the_map_and_room_page_show_outdoor_co2_without_a_level(world, client):
    make_outdoor(world)
    with_co2(world.node_a, 1500)
    client.force_login(world.alice)
    response = client.get("/")
    nodes = {n["device_id"]: n for s in response.context["config"]["sites"] for n in s["nodes"]}
    assert nodes["secretA-node"]["indoor"] is False  # map.js colours sites by indoor CO2 only
    assert nodes["secretA-public-node"]["indoor"] is True
    for path in ("/", f"/rooms/{world.room_a.pk}/"):
        body = client.get(path).content.decode()
        assert '<span class="number" data-value>1500</span>' in body, path
        assert "data-level" not in body, path


def test_a_node_not_installed_anywhere_keeps_the_light(world, client):
    world.installation_a.delete()
    with_co2(world.node_a, 1500)
    client.force_login(world.alice)
    assert node_config(client, world.node_a)["co2_levels"] is not None
    body = client.get(f"/nodes/{world.node_a.pk}/").content.decode()
    assert '<span class="level" data-level>Poor</span>' in body


def test_the_traffic_light_limits_have_one_definition(world, client, monkeypatch):
    monkeypatch.setattr(views, "CO2_GOOD_BELOW", 800)
    with_co2(world.node_a, 900)
    client.force_login(world.alice)
    config = node_config(client, world.node_a)
    assert config["co2_levels"] == {"good_below": 800, "poor_above": 1400}  # chart bands
    body = client.get(f"/rooms/{world.room_a.pk}/").content.decode()
    assert '<span class="level" data-level>Fair</span>' in body  # server-rendered tile
    assert "below 800 ppm" in body  # the legend
    match = re.search(r'<script id="quantities" type="application/json">(.*?)</script>', body)
    assert match
    levels = json.loads(match.group(1))["co2"]["levels"]  # tiles.js's live traffic light
    assert levels == {"good_below": 800, "poor_above": 1400}
