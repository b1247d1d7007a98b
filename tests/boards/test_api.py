"""Dashboards through the API and their pages: CRUD, validation, import/export, share
links, and the walls (another organization -> 404, inspector -> 403, revoked -> 404,
a public link shows only public data)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from sensorgrid.boards import layout
from sensorgrid.boards.models import Board, BoardShare
from sensorgrid.inventory.models import Installation, Quantity
from sensorgrid.telemetry.models import Latest, Sample
from tests.alerts.test_api import alert_of


def chart(node, quantity="co2", pid="p1", **extra):
    return {
        "id": pid,
        "type": "timeseries",
        "title": "CO2",
        "x": 0,
        "y": 0,
        "w": 6,
        "h": 4,
        "series": [{"node": node.pk, "quantity": quantity}],
        "bucket": "raw",
        **extra,
    }


def stat(node, pid="s1"):
    return {
        "id": pid,
        "type": "stat",
        "x": 6,
        "y": 0,
        "w": 3,
        "h": 2,
        "node": node.pk,
        "quantity": "co2",
        "thresholds": [{"value": 1000, "color": "warning"}],
    }


def make_board(world, panels=(), organization=None) -> Board:
    return Board.objects.create(
        organization=organization or world.org_a,
        name="Classrooms",
        slug="classrooms",
        layout=layout.validate({"panels": list(panels)}, (organization or world.org_a).pk),
        created_by=world.alice,
    )


def record(node, value, ago=timedelta(minutes=5)):
    co2 = Quantity.objects.get(key="co2")
    ts = timezone.now() - ago
    Sample.objects.create(node_id=node.pk, quantity_id=co2.pk, ts=ts, value=value)
    Latest.objects.update_or_create(
        node_id=node.pk, quantity_id=co2.pk, defaults={"ts": ts, "value": value}
    )


def test_an_owner_creates_reads_changes_and_deletes_a_board(world, client_for):
    alice = client_for(world.alice)
    body = {
        "organization": world.org_a.pk,
        "name": "Classroom air",
        "layout": {"panels": [chart(world.node_a)]},
    }
    created = alice.post("/api/v1/boards/", body, format="json")
    assert created.status_code == 201, created.content
    board = created.json()
    assert board["slug"] == "classroom-air" and board["created_by"] == "alice"
    assert board["layout"]["range"] == "24h" and board["layout"]["panels"][0]["agg"] == "avg"
    url = f"/api/v1/boards/{board['id']}/"
    changed = alice.patch(
        url,
        {"layout": {"range": "7d", "panels": [chart(world.node_a), stat(world.node_a)]}},
        format="json",
    )
    assert changed.status_code == 200, changed.content
    assert [p["type"] for p in alice.get(url).json()["layout"]["panels"]] == ["timeseries", "stat"]
    assert alice.delete(url).status_code == 204
    assert not Board.objects.exists()


@pytest.mark.parametrize(
    "panel, where",
    [
        ({"id": "p1", "type": "clock", "x": 0, "y": 0, "w": 1, "h": 1}, "panels.0.type"),
        (
            {
                "id": "p1",
                "type": "stat",
                "x": 10,
                "y": 0,
                "w": 4,
                "h": 1,
                "quantity": "co2",
                "node": 1,
            },
            "panels.0",
        ),
        (
            {"id": "p1", "type": "timeseries", "x": 0, "y": 0, "w": 4, "h": 1, "series": []},
            "panels.0",
        ),
    ],
)
def test_a_malformed_panel_is_refused_naming_where(world, client_for, panel, where):
    body = {"organization": world.org_a.pk, "name": "Bad", "layout": {"panels": [panel]}}
    answer = client_for(world.alice).post("/api/v1/boards/", body, format="json")
    assert answer.status_code == 400
    assert where in answer.json()["layout"]


def test_a_panel_naming_another_organizations_node_is_refused(world, client_for):
    body = {
        "organization": world.org_a.pk,
        "name": "Spy",
        "layout": {"panels": [chart(world.node_b)]},
    }
    answer = client_for(world.alice).post("/api/v1/boards/", body, format="json")
    assert answer.status_code == 400
    assert f"No node {world.node_b.pk}" in str(answer.json())
    assert not Board.objects.exists()


def test_a_node_moved_to_another_organization_disappears_from_the_board(world, client_for):
    board = make_board(world, [chart(world.node_a), stat(world.node_a)])
    world.node_a.organization = world.org_b
    world.node_a.save(update_fields=["organization"])
    panels = client_for(world.alice).get(f"/api/v1/boards/{board.pk}/").json()["layout"]["panels"]
    assert panels[0]["series"] == [] and panels[1]["node"] is None


def test_walls_other_organization_404_inspector_403(world, client_for):
    board = make_board(world, [chart(world.node_a)])
    url = f"/api/v1/boards/{board.pk}/"
    charlie = client_for(world.charlie)
    assert charlie.get("/api/v1/boards/").json()["results"] == []
    for method in ("get", "patch", "delete"):
        assert getattr(charlie, method)(url, {}, format="json").status_code == 404
    assert charlie.get(f"{url}export/").status_code == 404
    bob = client_for(world.bob)  # inspector of org A
    assert bob.get(url).status_code == 200
    assert bob.patch(url, {"name": "Mine"}, format="json").status_code == 403
    assert bob.delete(url).status_code == 403
    new = {"organization": world.org_a.pk, "name": "Bob's", "layout": {"panels": []}}
    assert bob.post("/api/v1/boards/", new, format="json").status_code == 403
    assert bob.post("/api/v1/board-shares/", {"board": board.pk}, format="json").status_code == 403
    assert client_for(None).get(url).status_code in (401, 403, 404)
    board.refresh_from_db()
    assert board.name == "Classrooms"


def test_export_then_import_makes_the_same_board(world, client_for):
    board = make_board(world, [chart(world.node_a), stat(world.node_a)])
    alice = client_for(world.alice)
    exported = alice.get(f"/api/v1/boards/{board.pk}/export/")
    assert exported.status_code == 200
    assert 'filename="board-classrooms.json"' in exported["Content-Disposition"]
    document = exported.json()
    assert document["format"] == 1 and "organization" not in document
    document["slug"] = "copy"
    imported = alice.post(
        "/api/v1/boards/", {**document, "organization": world.org_a.pk}, format="json"
    )
    assert imported.status_code == 201, imported.content
    assert imported.json()["layout"] == document["layout"]
    # the same file into an organization whose nodes it does not name: refused
    charlie = client_for(world.charlie)
    foreign = charlie.post(
        "/api/v1/boards/", {**document, "organization": world.org_b.pk}, format="json"
    )
    assert foreign.status_code == 400


def share(client, board, mode) -> dict:
    answer = client.post("/api/v1/board-shares/", {"board": board.pk, "mode": mode}, format="json")
    assert answer.status_code == 201, answer.content
    return answer.json()


def test_an_organization_share_shows_the_board_until_revoked(world, client_for):
    record(world.node_a, 812.0)
    board = make_board(world, [chart(world.node_a), stat(world.node_a)])
    alice = client_for(world.alice)
    link = share(alice, board, "organization")
    anonymous = client_for(None)
    page = anonymous.get(link["url"])
    assert page.status_code == 200 and b"Classrooms" in page.content
    data = anonymous.get(f"/api/v1/shared-boards/{link['token']}/panels/s1/").json()
    assert [v["value"] for v in data["values"]] == [812.0]
    series = anonymous.get(f"/api/v1/shared-boards/{link['token']}/panels/p1/").json()["series"]
    assert [p["value"] for p in series[0]["points"]] == [812.0]
    # the token is never stored, nor listed
    assert not BoardShare.objects.filter(digest=link["token"]).exists()
    assert "token" not in alice.get(f"/api/v1/board-shares/?board={board.pk}").json()["results"][0]
    # another organization's owner cannot revoke it; the owner can
    assert (
        client_for(world.charlie).delete(f"/api/v1/board-shares/{link['id']}/").status_code == 404
    )
    assert client_for(world.bob).delete(f"/api/v1/board-shares/{link['id']}/").status_code == 403
    assert alice.delete(f"/api/v1/board-shares/{link['id']}/").status_code == 204
    assert anonymous.get(link["url"]).status_code == 404
    assert anonymous.get(f"/api/v1/shared-boards/{link['token']}/").status_code == 404
    assert anonymous.get(f"/api/v1/shared-boards/{link['token']}/panels/s1/").status_code == 404
    assert anonymous.get("/boards/shared/not-a-token/").status_code == 404


def test_a_share_link_ends_when_its_creator_is_no_longer_an_owner(world, client_for):
    from sensorgrid.tenancy.models import Membership, Role

    board = make_board(world, [stat(world.node_a)])
    link = share(client_for(world.alice), board, "organization")
    anonymous = client_for(None)
    urls = (
        link["url"],
        f"/api/v1/shared-boards/{link['token']}/",
        f"/api/v1/shared-boards/{link['token']}/panels/s1/",
    )
    assert [anonymous.get(url).status_code for url in urls] == [200, 200, 200]
    membership = Membership.objects.get(user=world.alice, organization=world.org_a)
    membership.role = Role.INSPECTOR  # demoted
    membership.save()
    assert [anonymous.get(url).status_code for url in urls] == [404, 404, 404]
    membership.role = Role.OWNER
    membership.save()
    assert anonymous.get(link["url"]).status_code == 200
    membership.delete()  # removed from the organization
    assert [anonymous.get(url).status_code for url in urls] == [404, 404, 404]


def test_a_share_link_reads_at_most_the_longest_range_back(world, client_for):
    record(world.node_a, 4242.0, ago=timedelta(days=400))
    record(world.node_a, 812.0)
    board = make_board(world, [chart(world.node_a)])
    link = share(client_for(world.alice), board, "organization")
    base = f"/api/v1/shared-boards/{link['token']}/panels/p1/"
    for asked in ("0", "1970-01-01T00:00:00Z"):
        answer = client_for(None).get(base, {"from": asked})
        assert answer.status_code == 200, answer.content
        assert [p["value"] for p in answer.json()["series"][0]["points"]] == [812.0]


def test_a_public_share_shows_only_public_data(world, client_for):
    record(world.node_a, 900.0)  # private installation
    record(world.public_node, 450.0)  # public installation
    board = make_board(
        world,
        [
            chart(world.node_a),
            chart(world.public_node, pid="p2"),
            stat(world.node_a),
            stat(world.public_node, pid="s2"),
            {"id": "a1", "type": "alerts", "x": 0, "y": 4, "w": 6, "h": 3},
            {"id": "m1", "type": "map", "x": 6, "y": 4, "w": 6, "h": 3},
        ],
    )
    alert_of(world, world.org_a, world.public_node)  # members only, never shared publicly
    link = share(client_for(world.alice), board, "public")
    anonymous = client_for(None)
    base = f"/api/v1/shared-boards/{link['token']}/panels"
    assert anonymous.get(f"{base}/p1/").json()["series"] == []
    public = anonymous.get(f"{base}/p2/").json()["series"]
    assert [p["value"] for p in public[0]["points"]] == [450.0]
    assert anonymous.get(f"{base}/s1/").json()["values"] == []
    shown = anonymous.get(f"{base}/s2/").json()["values"]
    assert [v["value"] for v in shown] == [450.0]
    assert anonymous.get(f"{base}/a1/").json()["alerts"] == []
    places = anonymous.get(f"{base}/m1/").json()["features"]
    assert [f["node"] for f in places] == [world.public_node.pk]
    body = b"".join(anonymous.get(f"{base}/{p}/").content for p in ("p1", "p2", "s1", "s2", "m1"))
    # no device id, no private node, site or room (the public node's alias is public)
    for secret in (b'"secretA-public-node"', b"secretA-node", b"secretA site", b"secretA room"):
        assert secret not in body
    # values from before the public installation began stay hidden
    installation = Installation.objects.get(node=world.public_node)
    installation.start = timezone.now() - timedelta(minutes=1)
    installation.save(update_fields=["start"])
    assert anonymous.get(f"{base}/p2/").json()["series"][0]["points"] == []
    assert anonymous.get(f"{base}/s2/").json()["values"] == []


def test_a_share_token_of_another_board_shows_nothing_of_this_one(world, client_for):
    mine = make_board(world, [stat(world.node_a)])
    theirs = make_board(world, [], organization=world.org_b)
    link = share(client_for(world.charlie), theirs, "organization")
    anonymous = client_for(None)
    assert anonymous.get(f"/api/v1/shared-boards/{link['token']}/panels/s1/").status_code == 404
    assert client_for(world.charlie).get(f"/boards/{mine.pk}/").status_code in (302, 404)


def test_board_pages_follow_the_walls(world, client):
    board = make_board(world, [chart(world.node_a)])
    client.force_login(world.charlie)
    assert client.get(f"/boards/{board.pk}/").status_code == 404
    assert b"Classrooms" not in client.get("/boards/").content
    client.force_login(world.bob)
    page = client.get(f"/boards/{board.pk}/")
    assert page.status_code == 200 and b"Add panel" not in page.content
    assert (
        client.post("/boards/new/", {"organization": world.org_a.pk, "name": "X"}).status_code
        == 403
    )
    client.force_login(world.alice)
    page = client.get(f"/boards/{board.pk}/")
    assert page.status_code == 200 and b"Add panel" in page.content
    made = client.post("/boards/new/", {"organization": world.org_a.pk, "name": "Hall"})
    assert made.status_code == 302 and Board.objects.filter(name="Hall").exists()


def test_the_page_imports_an_exported_file(world, client):
    import io
    import json

    board = make_board(world, [stat(world.node_a)])
    client.force_login(world.alice)
    exported = client.get(f"/api/v1/boards/{board.pk}/export/").json()
    upload = io.BytesIO(json.dumps({**exported, "slug": "imported"}).encode())
    upload.name = "board.json"
    answer = client.post("/boards/import/", {"organization": world.org_a.pk, "file": upload})
    copy = Board.objects.get(slug="imported")
    assert answer.status_code == 302 and answer["Location"] == f"/boards/{copy.pk}/"
    assert copy.layout == board.layout | {"panels": exported["layout"]["panels"]}
    bad = io.BytesIO(b"not json")
    bad.name = "x.json"
    refused = client.post("/boards/import/", {"organization": world.org_a.pk, "file": bad})
    assert refused.status_code == 302 and refused["Location"] == "/boards/"
    assert "Not saved" in client.get("/boards/").content.decode()  # once, from the session
    assert "Not saved" not in client.get("/boards/").content.decode()


def test_the_list_page_shows_no_text_given_in_its_address(world, client):
    client.force_login(world.alice)
    page = client.get("/boards/", {"error": "Your session expired, call +1 555 0100"})
    assert page.status_code == 200 and "555 0100" not in page.content.decode()


def test_the_demo_has_an_example_dashboard_per_organization_once(db, client):
    from sensorgrid.boards.demo import example_boards
    from sensorgrid.inventory import demo

    demo.load()
    made = example_boards()
    assert example_boards() == made and Board.objects.count() == 2
    assert sorted(b.organization.slug for b in made) == ["harbour-offices", "riverside-school"]
    school = next(b for b in made if b.organization.slug == "riverside-school")
    kinds = {p["type"] for p in school.layout["panels"]}
    assert kinds == {"timeseries", "stat", "table", "map", "alerts"}
    # the harbour's roof camera: its latest picture in an image panel
    harbour = next(b for b in made if b.organization.slug == "harbour-offices")
    camera = next(p for p in harbour.layout["panels"] if p["type"] == "image")
    assert camera["name"] == "camera"
    assert harbour.organization.nodes.get(pk=camera["node"]).device_id == "demo-cam-101"
    client.force_login(school.organization.memberships.get(role="owner").user)
    assert client.get(f"/boards/{school.pk}/").status_code == 200
