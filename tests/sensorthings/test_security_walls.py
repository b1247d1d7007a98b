"""Security review findings of the SensorThings walls and bodies (/work/notes/sta-bugs.md).

SEC-5: a node whose public installation ended stays a public Thing (its period stays
readable), but the site of its later private installation must not become public: not
as a Location, not through the Thing's Locations, not as a FeatureOfInterest.

SEC-7: integers orjson cannot write (beyond signed/unsigned 64-bit) are refused in STA
bodies with a 400 naming where they are, and what is stored anyway (node metadata
through the REST API, rows from before) never makes a listing answer 500.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from sensorgrid.sensorthings import mirror
from sensorgrid.sensorthings.models import Location, Thing
from tests import factories as f

pytestmark = pytest.mark.django_db

ROOT = "/sta/v1.1/"
BIG = "9" * 30


@pytest.fixture
def moved(world):
    """The public node's public installation ended yesterday; since then it is installed
    privately in org A's secret site."""
    now = timezone.now()
    world.public_installation.end = now - timedelta(days=1)
    world.public_installation.save()
    f.InstallationFactory(
        node=world.public_node, room=world.room_a, start=now - timedelta(hours=20)
    )
    mirror.ensure()
    return world


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row.get("name") for row in response.json()["value"]]


def test_a_later_private_site_of_a_public_node_stays_private(moved, client_for):
    node = moved.public_node.pk
    # the mirror links the node to its current (private) site's Location
    assert Location.objects.get(site=moved.site_a).things.filter(pk=node).exists()
    for user in (None, moved.charlie):
        client = client_for(user)
        assert "secretA site" not in names(client.get(ROOT + "Locations"))
        assert "Public school" in names(client.get(ROOT + "Locations"))
        assert names(client.get(ROOT + f"Things({node})/Locations")) == []
        assert "secretA" not in client.get(ROOT + "FeaturesOfInterest").content.decode()
        history = client.get(ROOT + f"Things({node})/HistoricalLocations?$expand=Locations")
        assert history.status_code == 200
        assert "secretA" not in history.content.decode()
        assert "Public school" in history.content.decode()
        # the node still publishes its ended public period
        assert client.get(ROOT + f"Things({node})").status_code == 200
    # its organization still sees where it is
    assert "secretA site" in names(client_for(moved.alice).get(ROOT + f"Things({node})/Locations"))


def test_sta_locations_of_a_publicly_installed_node_are_public(world, client_for):
    node = world.public_node.pk
    created = client_for(world.alice).post(
        ROOT + f"Things({node})/Locations",
        {
            "name": "On the roof",
            "description": "",
            "encodingType": "application/geo+json",
            "location": {"type": "Point", "coordinates": [13.4, 52.5]},
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    assert "On the roof" in names(client_for(None).get(ROOT + "Locations"))


def test_sta_locations_linked_after_the_public_period_stay_private(moved, client_for):
    node = moved.public_node.pk
    created = client_for(moved.alice).post(
        ROOT + f"Things({node})/Locations",
        {
            "name": "secretA roof",
            "description": "",
            "encodingType": "application/geo+json",
            "location": {"type": "Point", "coordinates": [13.4, 52.5]},
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    assert names(client_for(None).get(ROOT + "Locations")) == ["Public school"]


@pytest.mark.parametrize(
    ("path", "body", "where"),
    [
        ("Things({thing})", '{"properties": {"a": %s}}', "properties.a"),
        ("Things({thing})", '{"properties": {"a": [1, {"b": -%s}]}}', "properties.a.1.b"),
        ("Datastreams({datastream})", '{"properties": {"a": %s}}', "properties.a"),
        ("Locations({location})", '{"properties": {"a": %s}}', "properties.a"),
    ],
)
def test_a_body_with_an_integer_beyond_64_bits_is_refused(
    sta, world, client_for, path, body, where
):
    ids = {
        "thing": world.public_node.pk,
        "datastream": sta.datastream(world.public_node, sta.co2).pk,
        "location": Location.objects.get(site=world.public_site).pk,
    }
    response = client_for(world.alice).patch(
        ROOT + path.format(**ids), body % BIG, content_type="application/json"
    )
    assert response.status_code == 400
    assert where in response.json()["message"]
    assert client_for(None).get(ROOT + path.split("(")[0]).status_code == 200


def test_an_observation_with_a_big_integer_is_refused(sta, world, client_for):
    datastream = sta.datastream(world.public_node, sta.co2).pk
    alice = client_for(world.alice)
    for field in ('"result": BIG', '"result": 1, "parameters": {"a": BIG}'):
        body = '{"phenomenonTime": "2026-03-01T11:00:00Z", FIELD, "Datastream": {"@iot.id": ID}}'
        body = body.replace("FIELD", field).replace("BIG", BIG).replace("ID", str(datastream))
        response = alice.post(ROOT + "Observations", body, content_type="application/json")
        assert response.status_code == 400, response.content
        assert BIG[:20] in response.json()["message"]
    array = alice.post(
        ROOT + "CreateObservations",
        (
            '[{"Datastream": {"@iot.id": ID}, "components": ["phenomenonTime", "result"], '
            '"dataArray": [["2026-03-01T11:00:00Z", BIG]]}]'
        )
        .replace("ID", str(datastream))
        .replace("BIG", BIG),
        content_type="application/json",
    )
    assert array.status_code == 400
    assert "0.dataArray.0.1" in array.json()["message"]
    # the biggest integers orjson writes still pass
    fine = alice.patch(
        ROOT + f"Things({world.public_node.pk})",
        f'{{"properties": {{"a": {2**64 - 1}, "b": {-(2**63)}}}}}',
        content_type="application/json",
    )
    assert fine.status_code == 200
    assert fine.json()["properties"] == {"a": 2**64 - 1, "b": -(2**63)}


def test_stored_big_integers_and_deep_nesting_render(sta, world, client_for):
    thing = Thing.objects.get(node=world.public_node)
    thing.properties = {"a": int(BIG), "b": -int(BIG), "deep": [[[[1]]]]}
    nested: object = 1
    for _ in range(300):  # orjson writes at most 255 levels
        nested = [nested]
    thing.properties["deep"] = nested
    thing.save()
    for user in (None, world.charlie, world.alice):
        client = client_for(user)
        listing = client.get(ROOT + "Things")
        assert listing.status_code == 200
        assert f'"a":{BIG}' in listing.content.decode()
        (row,) = [t for t in listing.json()["value"] if t["@iot.id"] == thing.pk]
        assert row["properties"]["a"] == int(BIG) and row["properties"]["b"] == -int(BIG)
        expanded = client.get(ROOT + "Datastreams?$expand=Thing")
        assert expanded.status_code == 200
        value = client.get(ROOT + f"Things({thing.pk})/properties/a/$value")
        assert value.status_code == 200 and value.content.decode() == BIG


def test_node_metadata_with_a_big_integer_breaks_no_listing(sta, world, client_for):
    alice = client_for(world.alice)
    response = alice.patch(
        reverse("node-detail", args=[world.public_node.pk]),
        '{"metadata": {"a": BIG}}'.replace("BIG", BIG),
        content_type="application/json",
    )
    assert response.status_code in (200, 400)
    assert alice.get(reverse("node-detail", args=[world.public_node.pk])).status_code == 200
    assert alice.get(reverse("node-list")).status_code == 200
    for user in (None, world.alice):
        assert client_for(user).get(ROOT + "Things").status_code == 200
