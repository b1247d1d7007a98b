"""The dashboard pages as the Django test client sees them: who sees what, and the
HTML 404 for everything foreign (browser behaviour: test_browser.py)."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from sensorgrid.dashboard.views import co2_level
from sensorgrid.inventory.models import Quantity
from sensorgrid.telemetry.models import Latest

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_user(client):
    def login(user):
        if user is not None:
            client.force_login(user)
        return client

    return login


def text(response) -> str:
    return response.content.decode()


def test_alice_sees_her_sites_on_the_map_and_her_organization_in_the_nav(world, as_user):
    response = as_user(world.alice).get("/")
    assert response.status_code == 200
    body = text(response)
    assert 'class="org">Org A</span>' in body
    assert "Org B" not in body and "secretB" not in body
    config = response.context["config"]
    names = {s["name"] for s in config["sites"]}
    assert names == {"secretA site", "Public school"}
    nodes = {n["device_id"] for s in config["sites"] for n in s["nodes"]}
    assert nodes == {"secretA-node", "secretA-public-node"}
    assert 'id="map-config"' in body
    assert '<a class="skip-link" href="#main">' in body


def test_the_map_lists_nodes_with_health_and_co2_level_as_text(world, as_user):
    co2 = Quantity.objects.get(key="co2")
    Latest.objects.create(node=world.node_a, quantity=co2, ts=timezone.now(), value=1500)
    world.node_a.status = "MISSING"
    world.node_a.save(update_fields=["status"])
    body = text(as_user(world.alice).get("/"))
    assert '<span class="number" data-value>1500</span>' in body
    assert '<span class="level" data-level>Poor</span>' in body
    assert 'class="badge status-missing" data-status title="Device health">MISSING</span>' in body


@pytest.mark.parametrize(
    ("value", "level"),
    [(400, "Good"), (999.9, "Good"), (1000, "Fair"), (1400, "Fair"), (1400.1, "Poor")],
)
def test_co2_traffic_light(value, level):
    assert co2_level(value)[1] == level


def test_alice_sees_her_node_history_with_chart_config(world, as_user):
    response = as_user(world.alice).get(f"/nodes/{world.node_a.pk}/history/")
    assert response.status_code == 200
    body = text(response)
    assert "secretA-node" in body
    assert 'id="node-config"' in body
    config = response.context["config"]
    assert config["timeseries"] == f"/api/v1/nodes/{world.node_a.pk}/timeseries/"
    assert [p["label"] for p in config["presets"]] == ["1 h", "24 h", "7 d", "1 y"]


def test_bob_the_inspector_sees_the_node_page_too(world, as_user):
    assert as_user(world.bob).get(f"/nodes/{world.node_a.pk}/").status_code == 200


@pytest.mark.parametrize("page", ["nodes/{node_a.pk}", "sites/{site_a.pk}", "rooms/{room_a.pk}"])
def test_charlie_gets_the_html_404_for_alices_objects(world, as_user, page):
    response = as_user(world.charlie).get("/" + page.format(**vars(world)) + "/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    body = text(response)
    assert "<h1>Not found</h1>" in body
    assert "secretA" not in body
    assert 'class="org">Org B</span>' in body  # the page still has his navigation


def test_a_node_page_of_a_public_installation_is_still_members_only(world, as_user):
    # As in the API: nodes are never public, their installations are.
    assert as_user(world.charlie).get(f"/nodes/{world.public_node.pk}/").status_code == 404


def test_unknown_and_huge_ids_are_404(world, as_user):
    client = as_user(world.alice)
    assert client.get("/nodes/999999/").status_code == 404
    assert client.get(f"/nodes/{2**70}/").status_code == 404


def test_charlie_sees_only_the_public_node_on_alices_public_site(world, as_user):
    response = as_user(world.charlie).get(f"/sites/{world.public_site.pk}/")
    assert response.status_code == 200
    body = text(response)
    assert "Public classroom" in body
    assert "secretA" not in body.replace("secretA-public-node", "")
    # ... without a link to a node page he could not open.
    assert f'href="/nodes/{world.public_node.pk}/"' not in body


def test_alice_sees_her_site_and_room_pages_with_live_tiles(world, as_user):
    client = as_user(world.alice)
    site = client.get(f"/sites/{world.site_a.pk}/")
    assert site.status_code == 200
    assert f'data-node="{world.node_a.pk}"' in text(site)
    assert f'href="/nodes/{world.node_a.pk}/"' in text(site)
    assert json.dumps({"site": world.site_a.pk}) in text(site)
    room = client.get(f"/rooms/{world.room_a.pk}/")
    assert room.status_code == 200
    assert "secretA room" in text(room)
    assert json.dumps({"room": world.room_a.pk}) in text(room)


@pytest.mark.parametrize(
    "page",
    ["/", "/nodes/{node_a.pk}/", "/sites/{site_a.pk}/", "/rooms/{room_a.pk}/", "/nodes/999999/"],
)
def test_anonymous_visitors_are_sent_to_the_login_for_member_pages(world, client, page):
    path = page.format(**vars(world))
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={path}"


def test_anonymous_public_page_shows_public_installations_only(world, client):
    co2 = Quantity.objects.get(key="co2")
    Latest.objects.create(node=world.public_node, quantity=co2, ts=timezone.now(), value=800)
    response = client.get("/public/")
    assert response.status_code == 200
    body = text(response)
    assert "Public school" in body and "Public classroom" in body and "Org A" in body
    assert '<span class="number" data-value>800</span>' in body
    assert f'data-installation="{world.public_installation.pk}"' in body
    for secret in ["secretA site", "secretA room", "secretB", "Org B"]:
        assert secret not in body
    assert f'href="/nodes/{world.public_node.pk}/"' not in body
    assert "Log in" in body


def test_the_public_page_hides_values_from_before_the_installation(world, client):
    co2 = Quantity.objects.get(key="co2")
    before = world.public_installation.start - timedelta(days=1)
    Latest.objects.create(node=world.public_node, quantity=co2, ts=before, value=777)
    assert "777" not in text(client.get("/public/"))


def test_an_ended_public_installation_is_not_shown(world, client):
    world.public_installation.end = timezone.now() - timedelta(seconds=1)
    world.public_installation.save()
    assert "Public classroom" not in text(client.get("/public/"))


def test_login_and_logout(world, client):
    world.alice.set_password("pw-for-the-test")
    world.alice.save()
    page = client.get("/login/")
    assert page.status_code == 200
    assert '<label for="id_username">Username</label>' in text(page)
    response = client.post("/login/", {"username": "alice", "password": "pw-for-the-test"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200
    logout = client.post("/logout/")
    assert logout.status_code == 302 and logout["Location"] == "/login/"
    assert client.get("/").status_code == 302


def test_a_wrong_password_is_refused_with_a_message(world, client):
    response = client.post("/login/", {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert 'role="alert"' in text(response)


def test_api_404_stays_json(world, as_user):
    response = as_user(world.charlie).get(f"/api/v1/nodes/{world.node_a.pk}/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


def test_the_pages_load_their_assets_from_this_server(world, as_user):
    body = text(as_user(world.alice).get(f"/nodes/{world.node_a.pk}/history/"))
    assert "/static/dashboard/node.js" in body and "/static/dashboard/vendor/uPlot.min.css" in body
    assert "https://" not in body and "http://" not in body
