"""A public installation publishes a node's values, not the node (review of issue 22).

Outside its organization a node is called by its alias, else "Device <id>": never by its
device id, which is in MQTT topics and stays with the members, on every page and API
that shows public nodes to strangers.
"""

import pytest
from django.test import Client
from django.utils import timezone

from sensorgrid.inventory.models import Quantity
from sensorgrid.telemetry.models import Latest

pytestmark = pytest.mark.django_db


@pytest.fixture
def unnamed(world):
    """The public node without an alias, with a value to show."""
    node = world.public_node
    node.alias = ""
    node.save()
    co2 = Quantity.objects.get(key="co2")
    Latest.objects.create(node=node, quantity=co2, ts=timezone.now(), value=800)
    return node


def browser(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def body(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.content.decode()


def test_strangers_see_a_number_where_members_see_the_device_id(world, unnamed):
    pages = [
        (None, "/public/"),
        (world.charlie, "/public/"),
        (world.charlie, "/"),
        (world.charlie, f"/sites/{world.public_site.pk}/"),
    ]
    for user, path in pages:
        page = body(browser(user), path)
        assert unnamed.device_id not in page, (user, path)
        assert f"Device {unnamed.pk}" in page, (user, path)
    # Members still see their device's id.
    assert unnamed.device_id in body(browser(world.alice), f"/sites/{world.public_site.pk}/")
