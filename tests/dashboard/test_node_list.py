"""The device list /nodes/ with the Django test client: search, each filter, sorting,
paging, CSV, the wall between organizations, inspectors and bad parameters."""

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest

from sensorgrid.dashboard.lists import table
from sensorgrid.inventory.models import Installation, Node, NodeStatus
from tests import factories as f
from tests.dashboard.test_alert_pages import make_alert, make_rule

pytestmark = pytest.mark.django_db

SEEN = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def fleet(world):
    """Org A's two world nodes plus three more, each different in what the list shows."""
    Node.objects.filter(pk=world.node_a.pk).update(
        status=NodeStatus.ALIVE, last_seen=SEEN, alias="Hall sensor"
    )
    Node.objects.filter(pk=world.public_node.pk).update(alias="")
    dead = f.NodeFactory(organization=world.org_a, device_id="A-DEAD-1", alias="Basement")
    missing = f.NodeFactory(organization=world.org_a, device_id="a-missing-2", alias="")
    Node.objects.filter(pk=dead.pk).update(
        status=NodeStatus.DEAD, last_seen=SEEN - timedelta(days=3)
    )
    Node.objects.filter(pk=missing.pk).update(
        status=NodeStatus.MISSING, last_seen=SEEN - timedelta(hours=1)
    )
    f.InstallationFactory(node=missing, room=world.room_a)
    from sensorgrid.inventory.models import Quantity

    rule = make_rule(world.org_a, Quantity.objects.get(key="co2"), name="secretA rule")
    make_alert(rule, dead, "too much CO2")
    other = make_rule(world.org_a, Quantity.objects.get(key="co2"), name="secretA rule 2")
    make_alert(other, dead, "again")
    make_alert(rule, world.node_a, "long gone", resolved=True)
    return {"dead": dead, "missing": missing}


def names(response) -> list[str]:
    """The node names of the table, in order (the row headers)."""
    return re.findall(
        r'<th scope="row"><a href="/nodes/\d+/">([^<]*)</a>', response.content.decode()
    )


def test_alice_sees_her_nodes_with_place_status_and_alerts_and_no_foreign_node(
    client, world, fleet
):
    client.force_login(world.alice)
    response = client.get("/nodes/")
    assert response.status_code == 200
    page = response.content.decode()
    assert names(response) == ["a-missing-2", "Basement", "Hall sensor", "secretA-public-node"]
    assert "secretB" not in page and "Org B" not in page.replace('value="', "")
    row = page[page.index(f'data-node="{fleet["missing"].pk}"') :]
    row = row[: row.index("</tr>")]
    assert "secretA site" in row and "secretA room" in row and "status-missing" in row
    dead_row = page[page.index(f'data-node="{fleet["dead"].pk}"') :]
    assert ">2</a></td>" in dead_row[: dead_row.index("</tr>")]  # two open alerts
    assert '<a href="/nodes/" aria-current="page">Devices</a>' in page
    assert "<caption" in page and 'scope="col"' in page and 'aria-sort="ascending"' in page


def test_charlie_of_org_b_sees_only_his_node_and_a_foreign_filter_id_is_refused(
    client, world, fleet
):
    client.force_login(world.charlie)
    assert names(client.get("/nodes/")) == ["alias of secretB-node"]
    for param in (
        f"site={world.site_a.pk}",
        f"room={world.room_a.pk}",
        f"organization={world.org_a.pk}",
        f"model={world.model_a.pk}",
        f"site={world.public_site.pk}",
    ):
        response = client.get(f"/nodes/?{param}")
        assert response.status_code == 400, param
        assert "secretA" not in response.content.decode()
        assert "Select a valid choice" in response.content.decode()
    csv_body = b"".join(client.get("/nodes/export.csv").streaming_content).decode()
    assert "secretA" not in csv_body and "secretB-node" in csv_body


def test_search_is_case_insensitive_on_name_and_device_id(client, world, fleet):
    client.force_login(world.bob)
    assert names(client.get("/nodes/?q=HALL")) == ["Hall sensor"]
    assert names(client.get("/nodes/?q=a-dead")) == ["Basement"]
    assert names(client.get("/nodes/?q=nothing-like-it")) == []
    assert "No device matches these filters." in client.get("/nodes/?q=zzz").content.decode()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=dead", ["Basement"]),
        ("status=alive", ["Hall sensor"]),
        ("status=unknown", ["secretA-public-node"]),
        ("alerts=yes", ["Basement"]),
        ("alerts=no", ["a-missing-2", "Hall sensor", "secretA-public-node"]),
        ("model={model_a.pk}", ["Hall sensor"]),
        (
            "organization={org_a.pk}",
            ["a-missing-2", "Basement", "Hall sensor", "secretA-public-node"],
        ),
        ("site={site_a.pk}", ["a-missing-2", "Hall sensor"]),
        ("room={public_room.pk}", ["secretA-public-node"]),
        ("site={site_a.pk}&status=missing", ["a-missing-2"]),
    ],
)
def test_each_filter(client, world, fleet, query, expected):
    client.force_login(world.alice)
    response = client.get("/nodes/?" + query.format(**vars(world)))
    assert response.status_code == 200
    assert names(response) == expected


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["a-missing-2", "Basement", "Hall sensor", "secretA-public-node"]),
        ("-name", ["secretA-public-node", "Hall sensor", "Basement", "a-missing-2"]),
        ("status", ["Basement", "a-missing-2", "secretA-public-node", "Hall sensor"]),
        ("-last_seen", ["Hall sensor", "a-missing-2", "Basement", "secretA-public-node"]),
        ("last_seen", ["secretA-public-node", "Basement", "a-missing-2", "Hall sensor"]),
        # ties in pk order, reversed with the column
        ("-alerts", ["Basement", "a-missing-2", "secretA-public-node", "Hall sensor"]),
    ],
)
def test_sorting(client, world, fleet, sort, expected):
    client.force_login(world.alice)
    assert names(client.get(f"/nodes/?sort={sort}")) == expected


def test_sorted_header_says_so_and_links_to_the_reverse(client, world, fleet):
    client.force_login(world.alice)
    page = client.get("/nodes/?sort=-last_seen&status=dead").content.decode()
    assert 'aria-sort="descending"><a href="?sort=last_seen&amp;status=dead">Last seen' in page
    assert 'aria-sort="none"><a href="?sort=status&amp;status=dead">Status' in page


def test_paging_walks_the_whole_list_once(client, world, fleet, monkeypatch):
    monkeypatch.setattr(table, "PER_PAGE", 3)
    client.force_login(world.alice)
    first = client.get("/nodes/?sort=name")
    page = first.content.decode()
    assert "1–3 of 4" in page and 'href="?sort=name&amp;page=2"' in page
    second = client.get("/nodes/?sort=name&page=2")
    assert names(first) + names(second) == [
        "a-missing-2",
        "Basement",
        "Hall sensor",
        "secretA-public-node",
    ]
    assert "4–4 of 4" in second.content.decode() and 'rel="prev"' in second.content.decode()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("status=exploded", "Select a valid choice"),
        ("site=abc", "Select a valid choice"),
        ("site=99999999999999999999", "Select a valid choice"),
        ("page=0", "greater than or equal to 1"),
        ("page=x", "Enter a whole number"),
        ("page=7", "There is no page 7"),
        ("sort=password", "Select a valid choice"),
        ("q=" + "x" * 101, "at most 100 characters"),
    ],
)
def test_bad_parameters_give_the_page_with_a_message_not_a_500(
    client, world, fleet, query, message
):
    client.force_login(world.alice)
    response = client.get("/nodes/?" + query)
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page and "These filters cannot be applied" in page
    assert 'href="?">Show the whole list' in page
    assert client.get("/nodes/export.csv?" + query).status_code == (
        200 if query == "page=7" else 400
    )


def test_csv_exports_every_row_of_the_filter(client, world, fleet, monkeypatch):
    monkeypatch.setattr(table, "PER_PAGE", 1)
    client.force_login(world.bob)
    response = client.get(f"/nodes/export.csv?site={world.site_a.pk}&sort=-last_seen")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response.streaming
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["name", "device_id", "model"]
    assert [r[0] for r in rows[1:]] == ["Hall sensor", "a-missing-2"]
    assert rows[1][4:9] == ["secretA site", "secretA room", "alive", SEEN.isoformat(), "0"]
    assert (
        f'href="/nodes/export.csv?site={world.site_a.pk}&amp;sort=-last_seen"'
        in client.get(f"/nodes/?site={world.site_a.pk}&sort=-last_seen").content.decode()
    )


def test_an_ended_installation_is_not_the_current_place(client, world, fleet):
    Installation.objects.filter(node=fleet["missing"]).update(end=datetime(2026, 2, 1, tzinfo=UTC))
    client.force_login(world.alice)
    assert names(client.get(f"/nodes/?site={world.site_a.pk}")) == ["Hall sensor"]


def test_anonymous_visitors_are_sent_to_login(client):
    assert client.get("/nodes/").url.startswith("/login/?next=/nodes/")
    assert client.get("/nodes/export.csv").url.startswith("/login/")


def test_an_empty_list_says_how_to_add_the_first_node(client):
    owner = f.UserFactory()
    f.MembershipFactory(user=owner, organization=f.OrganizationFactory(), role="owner")
    client.force_login(owner)
    page = client.get("/nodes/").content.decode()
    assert "No devices yet" in page and 'href="/nodes/new/"' in page


def test_csv_cells_that_would_be_formulas_stay_text(client, world):
    Node.objects.filter(pk=world.node_a.pk).update(alias='=HYPERLINK("http://evil","x")')
    client.force_login(world.bob)
    response = client.get("/nodes/export.csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert '\'=HYPERLINK("http://evil","x")' in [r[0] for r in rows[1:]]
    assert not any(cell.startswith("=") for r in rows for cell in r)
