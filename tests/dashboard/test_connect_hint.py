"""A device that never sent anything points at its Connect page (issue 19): "Last seen
never" and an empty chart left the member without a next step. The Latest tab and the
node's tile (site, room and map pages) link to Connect, History shows the same hint
instead of an empty chart; strangers see no link, and a real ingest makes it go away."""

import json
import re

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

HINT = "This device has not sent anything yet."


def text(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def connect_links(body: str, node) -> list[str]:
    """The text of every link on the page to ``node``'s Connect page, outside the tab bar."""
    url = reverse("dashboard:node-connect", args=[node.pk])
    outside_tabs = re.sub(r'<nav class="node-tabs".*?</nav>', "", body, flags=re.S)
    links = re.findall(rf'<a href="{re.escape(url)}"[^>]*>(.*?)</a>', outside_tabs, re.S)
    return [re.sub(r"<[^>]+>", "", link) for link in links]


@pytest.fixture
def alice(client, world):
    client.force_login(world.alice)
    return client


def test_the_latest_tab_of_a_silent_node_links_to_connect(alice, world):
    body = text(alice.get(f"/nodes/{world.node_a.pk}/"))
    assert "<dt>Last seen</dt><dd>never</dd>" in body
    assert HINT in body
    assert connect_links(body, world.node_a) == [f"Connect {world.node_a}"]
    # The tile right below does not repeat it; it still says there is nothing.
    assert "No values yet</p>" in body


def test_history_of_a_silent_node_shows_the_hint_instead_of_an_empty_chart(alice, world):
    body = text(alice.get(f"/nodes/{world.node_a.pk}/history/"))
    assert HINT in body and "Its chart and CSV download show here" in body
    assert connect_links(body, world.node_a) == [f"Connect {world.node_a}"]
    assert 'id="chart"' not in body and "Download CSV" not in body


@pytest.mark.parametrize("page", ["site", "room", "map"])
def test_a_silent_nodes_tile_links_members_to_connect(alice, world, page):
    path = {
        "site": f"/sites/{world.site_a.pk}/",
        "room": f"/rooms/{world.room_a.pk}/",
        "map": "/",
    }[page]
    body = text(alice.get(path))
    assert connect_links(body, world.node_a) == [f"How to connect it ({world.node_a})"]
    assert "No values yet: never seen." in body


def test_an_inspector_gets_the_hint_too(client, world):
    client.force_login(world.bob)  # reads only, and may open the Connect page
    body = text(client.get(f"/nodes/{world.node_a.pk}/"))
    assert connect_links(body, world.node_a) == [f"Connect {world.node_a}"]
    assert client.get(reverse("dashboard:node-connect", args=[world.node_a.pk])).status_code == 200


def test_strangers_see_a_public_silent_node_without_the_link(client, world):
    node = world.public_node
    url = reverse("dashboard:node-connect", args=[node.pk])
    assert url not in text(client.get("/public/"))  # anonymous
    client.force_login(world.charlie)  # a member of another organization
    assert url not in text(client.get("/public/"))
    assert client.get(url).status_code == 404


def test_the_first_stored_message_replaces_the_hint_with_values_and_chart(alice, world):
    node = world.node_a
    credential = node.issue_credential()
    node.save()
    stored = Client().post(
        "/api/v1/ingest/",
        data=json.dumps({"device": node.device_id, "values": {"co2": 612}}),
        content_type="application/json",
        headers={"authorization": f"Bearer {credential}"},
    )
    assert stored.json()["accepted"] == 1
    latest = text(alice.get(f"/nodes/{node.pk}/"))
    assert HINT not in latest and connect_links(latest, node) == []
    assert '<span class="number" data-value>612</span>' in latest
    history = text(alice.get(f"/nodes/{node.pk}/history/"))
    assert HINT not in history and 'id="chart"' in history
    assert connect_links(text(alice.get(f"/rooms/{world.room_a.pk}/")), node) == []
