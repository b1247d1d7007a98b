"""The node page's Images tab with the Django test client: the timeline of thumbnails,
one picture full size, names, pages and the wall (members only, others get 404)."""

import re
from datetime import timedelta

import pytest

from tests.images.test_api import T0, stored


@pytest.fixture
def alice(client, world):
    client.force_login(world.alice)
    return client


def test_the_timeline_shows_thumbnails_newest_first(alice, world):
    old = stored(world.node_a, name="door", ts=T0)
    new = stored(world.node_a, name="yard", ts=T0 + timedelta(hours=1))
    body = alice.get(f"/nodes/{world.node_a.pk}/images/").content.decode()
    shown = re.findall(r'<li data-image="(\d+)">', body)
    assert shown == [str(new.pk), str(old.pk)]
    assert f"/api/v1/images/{new.pk}/thumbnail/?stream=1" in body
    assert 'aria-label="Picture names"' in body  # two names: a filter
    only_door = alice.get(f"/nodes/{world.node_a.pk}/images/", {"name": "door"}).content.decode()
    assert re.findall(r'<li data-image="(\d+)">', only_door) == [str(old.pk)]


def test_one_picture_full_size_and_its_download(alice, world):
    image = stored(world.node_a, name="door")
    response = alice.get(f"/nodes/{world.node_a.pk}/images/", {"image": image.pk})
    body = response.content.decode()
    assert f'<figure class="image-full" data-image="{image.pk}">' in body
    assert f"/api/v1/images/{image.pk}/original/?stream=1" in body
    assert 'width="64" height="48"' in body
    original = alice.get(f"/api/v1/images/{image.pk}/original/", {"stream": "1"})
    assert original.status_code == 200 and original["Content-Type"] == "image/jpeg"


def test_another_nodes_picture_is_not_shown_and_says_so(alice, world):
    other = stored(world.public_node)
    response = alice.get(f"/nodes/{world.node_a.pk}/images/", {"image": other.pk})
    assert response.status_code == 400
    assert 'class="image-full"' not in response.content.decode()


def test_a_node_without_pictures_says_how_to_send_some(alice, world):
    body = alice.get(f"/nodes/{world.node_a.pk}/images/").content.decode()
    assert "data-no-images" in body and f"sensorgrid/{world.node_a.device_id}/image/" in body


@pytest.mark.parametrize("user", ["charlie", "dave", None])
def test_strangers_get_404_or_the_login(client, world, user):
    stored(world.node_a)
    if user is not None:
        client.force_login(getattr(world, user))
    response = client.get(f"/nodes/{world.node_a.pk}/images/")
    assert response.status_code == (302 if user is None else 404)


def test_the_admin_lists_only_the_staff_members_pictures(client, world):
    from sensorgrid.tenancy.models import Membership, Role

    mine = stored(world.node_a)
    other = stored(world.node_b)
    Membership.objects.create(user=world.dave, organization=world.org_a, role=Role.OWNER)
    client.force_login(world.dave)  # staff, owner of org A only
    body = client.get("/admin/images/image/").content.decode()
    assert f"/admin/images/image/{mine.pk}/change/" in body
    assert f"/admin/images/image/{other.pk}/change/" not in body
    assert client.get(f"/admin/images/image/{other.pk}/change/").status_code in (302, 404)
    page = client.get(f"/admin/images/image/{mine.pk}/change/")
    assert page.status_code == 200 and "thumbnail of" in page.content.decode()
