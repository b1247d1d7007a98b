"""Managing sites and rooms in the dashboard (Django test client): owners change,
inspectors read without forms or buttons, strangers get the 404 for every id, and the
forms refuse what the API refuses (browser flow: test_manage_browser.py)."""

import pytest

from sensorgrid.inventory.models import Installation, Room, Site

pytestmark = pytest.mark.django_db


def body(response) -> str:
    return response.content.decode()


@pytest.fixture
def as_user(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def test_alice_lists_her_sites_with_rooms_and_the_buttons_to_change_them(world, as_user):
    response = as_user(world.alice).get("/sites/")
    assert response.status_code == 200
    page = body(response)
    assert "secretA site" in page and "secretA room" in page and "Public school" in page
    assert "secretB" not in page
    assert 'href="/sites/new/"' in page
    assert f'href="/sites/{world.site_a.pk}/rooms/new/"' in page
    assert f'href="/rooms/{world.room_a.pk}/edit/"' in page
    assert f'href="/sites/{world.site_a.pk}/delete/"' in page
    assert '<a href="/sites/" aria-current="page">Sites</a>' in page


def test_bob_the_inspector_sees_the_same_sites_without_forms_or_buttons(world, as_user):
    client = as_user(world.bob)
    for path in ("/sites/", f"/sites/{world.site_a.pk}/", f"/rooms/{world.room_a.pk}/"):
        page = body(client.get(path))
        assert "secretA room" in page
        for forbidden in ("/new/", "/edit/", "/delete/"):
            assert forbidden not in page, (path, forbidden)


@pytest.mark.parametrize(
    "path",
    [
        "/sites/new/",
        "/sites/{site_a.pk}/edit/",
        "/sites/{site_a.pk}/delete/",
        "/sites/{site_a.pk}/rooms/new/",
        "/rooms/{room_a.pk}/edit/",
        "/rooms/{room_a.pk}/delete/",
    ],
)
def test_bob_the_inspector_may_not_open_or_post_the_forms(world, as_user, path):
    client = as_user(world.bob)
    path = path.format(**vars(world))
    assert client.get(path).status_code == 403
    assert client.post(path, {"name": "bob was here"}).status_code == 403
    assert Site.objects.filter(pk=world.site_a.pk).exists()
    assert not Room.objects.filter(name="bob was here").exists()


@pytest.mark.parametrize(
    "path",
    [
        "/sites/{site_a.pk}/edit/",
        "/sites/{site_a.pk}/delete/",
        "/sites/{site_a.pk}/rooms/new/",
        "/rooms/{room_a.pk}/edit/",
        "/rooms/{room_a.pk}/delete/",
        # a public installation shows a site to everybody, not its settings
        "/sites/{public_site.pk}/edit/",
        "/rooms/{public_room.pk}/delete/",
        "/sites/999999/edit/",
    ],
)
def test_charlie_gets_the_404_for_alices_site_and_room_forms(world, as_user, path):
    client = as_user(world.charlie)
    path = path.format(**vars(world))
    for response in (client.get(path), client.post(path, {"name": "charlie was here"})):
        assert response.status_code == 404
        assert "secretA" not in body(response) and "Public school" not in body(response)
    assert Site.objects.filter(pk=world.site_a.pk).exists()
    assert Room.objects.filter(pk=world.room_a.pk, name="secretA room").exists()


def test_charlie_lists_only_his_own_sites(world, as_user):
    page = body(as_user(world.charlie).get("/sites/"))
    assert "secretB site" in page and "secretA" not in page and "Public school" not in page


def test_alice_creates_a_site(world, as_user):
    response = as_user(world.alice).post(
        "/sites/new/",
        {
            "organization": world.org_a.pk,
            "name": "Annex",
            "address": "1 Main St",
            "latitude": "52.5",
            "longitude": "13.4",
        },
    )
    site = Site.objects.get(name="Annex")
    assert response.status_code == 302 and response["Location"] == f"/sites/{site.pk}/"
    assert (site.organization, site.address, site.latitude) == (world.org_a, "1 Main St", 52.5)


def test_a_site_is_checked_like_the_api_and_never_lands_in_a_foreign_organization(world, as_user):
    client = as_user(world.alice)
    response = client.post(
        "/sites/new/", {"organization": world.org_a.pk, "name": "Far", "latitude": "95"}
    )
    assert response.status_code == 200
    assert "Ensure this value is less than or equal to 90." in body(response)
    assert 'aria-invalid="true"' in body(response)
    foreign = client.post("/sites/new/", {"organization": world.org_b.pk, "name": "Planted"})
    assert foreign.status_code == 200
    assert "Select a valid choice." in body(foreign)
    assert not Site.objects.filter(name__in=["Far", "Planted"]).exists()


def test_the_site_form_has_csrf_protection(world):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(world.alice)
    page = client.get("/sites/new/")
    assert 'name="csrfmiddlewaretoken"' in body(page)
    refused = client.post("/sites/new/", {"organization": world.org_a.pk, "name": "No token"})
    assert refused.status_code == 403
    assert not Site.objects.filter(name="No token").exists()


def test_alice_edits_a_site(world, as_user):
    client = as_user(world.alice)
    form = body(client.get(f"/sites/{world.site_a.pk}/edit/"))
    assert 'value="secretA site"' in form and 'name="organization"' not in form
    response = client.post(
        f"/sites/{world.site_a.pk}/edit/", {"name": "secretA renamed", "address": "2 Side St"}
    )
    assert response.status_code == 302
    world.site_a.refresh_from_db()
    assert (world.site_a.name, world.site_a.address) == ("secretA renamed", "2 Side St")


def test_alice_adds_edits_and_deletes_a_room_with_its_area(world, as_user):
    client = as_user(world.alice)
    response = client.post(
        f"/sites/{world.site_a.pk}/rooms/new/",
        {"name": "Lab, 2nd floor", "area": "42.5", "height": "3", "max_occupancy": "12"},
    )
    assert response.status_code == 302 and response["Location"] == f"/sites/{world.site_a.pk}/"
    room = Room.objects.get(name="Lab, 2nd floor")
    assert (room.site, room.area, room.max_occupancy) == (world.site_a, 42.5, 12)
    site_page = body(client.get(f"/sites/{world.site_a.pk}/"))
    assert "Lab, 2nd floor" in site_page and "42.5 m²" in site_page
    refused = client.post(f"/rooms/{room.pk}/edit/", {"name": "Lab", "area": "-1"})
    assert "Ensure this value is greater than or equal to 0." in body(refused)
    client.post(f"/rooms/{room.pk}/edit/", {"name": "Lab", "area": "40"})
    room.refresh_from_db()
    assert (room.name, room.area) == ("Lab", 40)
    confirm = client.get(f"/rooms/{room.pk}/delete/")
    assert "Delete room “secretA site / Lab”?" in body(confirm)
    assert Room.objects.filter(pk=room.pk).exists()  # asking deletes nothing
    done = client.post(f"/rooms/{room.pk}/delete/")
    assert done.status_code == 302 and done["Location"] == f"/sites/{world.site_a.pk}/"
    assert not Room.objects.filter(pk=room.pk).exists()


def test_deleting_a_site_says_what_goes_with_it_then_does_it(world, as_user):
    client = as_user(world.alice)
    page = body(client.get(f"/sites/{world.site_a.pk}/delete/"))
    assert "its 1 room" in page and "1 installation (past and present)" in page
    assert client.post(f"/sites/{world.site_a.pk}/delete/").status_code == 302
    assert not Site.objects.filter(pk=world.site_a.pk).exists()
    assert not Installation.objects.filter(pk=world.installation_a.pk).exists()
    assert world.node_a.__class__.objects.filter(pk=world.node_a.pk).exists()  # the node stays


def test_anonymous_visitors_are_sent_to_the_login(world, client):
    for path in ("/sites/", "/sites/new/", f"/sites/{world.site_a.pk}/edit/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"] == f"/login/?next={path}"
