"""The fast read paths keep every answer (read.py, observations.py, walls.member_ids):
``/Observations`` in id order read a few Datastreams at a time, one Datastream's
Observations without the two-store view's wall, memberships read once per request, the
mirror's probe prepared once per connection."""

from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sensorgrid.inventory.models import Quantity
from sensorgrid.sensorthings import ids, mirror
from sensorgrid.sensorthings.models import Datastream
from tests.sensorthings.conftest import MARCH, write_samples

ROOT = "/sta/v1.1/"

pytestmark = pytest.mark.django_db


def get(client, path, params=None, status=200):
    response = client.get(ROOT + path, params or {})
    assert response.status_code == status, (path, response.status_code, response.content[:500])
    return response.json()


def walk(client, path, params) -> list[int]:
    """Every id of every page, following nextLinks (each a ``$skiptoken`` cursor)."""
    page = get(client, path, params)
    seen = [o["@iot.id"] for o in page["value"]]
    while "@iot.nextLink" in page:
        parts = urlsplit(page["@iot.nextLink"])
        assert "$skiptoken=" in parts.query
        response = client.get(f"{parts.path}?{parts.query}")
        assert response.status_code == 200, response.content[:500]
        page = response.json()
        seen += [o["@iot.id"] for o in page["value"]]
    return seen


def test_observations_in_id_order_page_across_datastreams_and_stores(client_for, sta, world):
    alice = client_for(world.alice)
    everything = walk(alice, "Observations", {"$top": "1000"})
    datastreams = {i >> ids.SHIFT for i in everything}
    # both stores, several Datastreams, and nothing of the other organization
    assert sta.text_stream.pk in datastreams and len(datastreams) >= 3
    node_b = set(Datastream.objects.filter(node=world.node_b).values_list("pk", flat=True))
    assert not datastreams & node_b
    assert everything == sorted(everything) and len(set(everything)) == len(everything)
    # small pages cross from one Datastream to the next and back in every direction
    assert walk(alice, "Observations", {"$top": "2"}) == everything
    assert walk(alice, "Observations", {"$top": "3", "$orderby": "id desc"}) == everything[::-1]
    # with a $filter that only some Datastreams match
    since = "phenomenonTime ge 2026-03-01T10:01:00Z"
    matching = walk(alice, "Observations", {"$top": "1000", "$filter": since})
    assert 0 < len(matching) < len(everything)
    assert walk(alice, "Observations", {"$top": "2", "$filter": since}) == matching
    # $skip still counts rows in the same order
    skipped = get(alice, "Observations", {"$top": "2", "$skip": "3"})
    assert [o["@iot.id"] for o in skipped["value"]] == everything[3:5]


def test_a_page_in_id_order_reads_the_first_datastream_first(client_for, sta, world):
    """The page statement is narrowed to Datastreams (never the whole view sorted)."""
    alice = client_for(world.alice)
    with CaptureQueriesContext(connection) as statements:
        body = get(alice, "Observations", {"$top": "1"})
    first = body["value"][0]["@iot.id"] >> ids.SHIFT
    pages = [
        q["sql"]
        for q in statements.captured_queries
        if "sensorthings_observation_row" in q["sql"] and "COUNT(" not in q["sql"]
    ]
    assert pages and all('"datastream_id" IN' in sql for sql in pages), pages
    assert first == min(Datastream.objects.values_list("pk", flat=True))


def test_one_datastreams_observations_cost_no_wall_of_the_two_store_view(client_for, sta, world):
    """A member's ``Datastreams(x)/Observations`` reads no public installations (the wall
    of the two-store view is not built for it), and his memberships only within the
    Datastream's statement (observations.membership): five statements."""
    alice = client_for(world.alice)
    co2 = sta.datastream(world.node_a, sta.co2)
    get(alice, f"Datastreams({co2.pk})/Observations")  # the partitions' list, kept a while
    with CaptureQueriesContext(connection) as statements:
        body = get(alice, f"Datastreams({co2.pk})/Observations", {"$count": "true"})
    assert body["@iot.count"] == 2
    sqls = [q["sql"] for q in statements.captured_queries]
    memberships = [s for s in sqls if s.lstrip().startswith('SELECT "tenancy_membership"')]
    installations = [s for s in sqls if s.lstrip().startswith('SELECT "inventory_installation"')]
    assert not memberships and not installations, sqls
    # token, mirror probe, Datastream, count, page (and the token's last use, at times)
    reads = [s for s in sqls if not s.startswith('UPDATE "accounts_apitoken"')]
    assert len(reads) == 5, [s[:90] for s in reads]


def test_a_removed_member_loses_access_at_once(client_for, sta, world):
    bob = client_for(world.bob)
    co2 = sta.datastream(world.node_a, sta.co2)
    path = f"Datastreams({co2.pk})/Observations"
    assert len(get(bob, path)["value"]) == 2
    assert get(bob, "Observations", {"$count": "true"})["@iot.count"] > 2
    world.membership_bob.delete()
    get(bob, path, status=404)
    get(bob, f"Datastreams({co2.pk})", status=404)
    # what he still sees of org A is only what everybody sees
    public = get(client_for(None), "Observations", {"$count": "true"})["@iot.count"]
    assert get(bob, "Observations", {"$count": "true"})["@iot.count"] == public


def test_the_mirror_probe_is_one_prepared_statement_that_sees_new_series(world, sta):
    """``mirror.missing()`` runs on every request: on PostgreSQL as a statement prepared
    on the connection (planned a few times, then reused; it was planned anew on every
    request), one statement per call as before, and it still finds a series that
    ingestion starts after the statement was prepared."""
    humidity = Quantity.objects.get(key="humidity")
    mirror.ensure()
    with CaptureQueriesContext(connection) as statements:
        assert mirror.missing() == set()
        assert mirror.missing() == set()
    sqls = [q["sql"] for q in statements.captured_queries]
    assert len(sqls) == 2, sqls
    if connection.vendor == "postgresql":
        assert all("EXECUTE sensorgrid_sta_missing(" in sql for sql in sqls), sqls
    series = Datastream.objects.filter(node=world.node_b, quantity=humidity, store="samples")
    assert not series.exists()
    write_samples((world.node_b, humidity, MARCH, 40.0))
    assert "series" in mirror.missing()
    mirror.ensure()
    assert series.exists()
    assert mirror.missing() == set()
