"""A Datastream's observedArea sums up the features of all its Observations, also those
a reader outside its organization may not see: for him it is null, in the answer and in
$filter (security review, medium: a public Datastream's area gave anonymous readers the
coordinates of a private site, from an Observation before the public period)."""

import json

import pytest

from sensorgrid.sensorthings.models import FeatureOfInterest

pytestmark = pytest.mark.django_db
ROOT = "/sta/v1.1/"
SECRET = [11.111, 48.222]


@pytest.fixture
def backfilled(world, sta, client_for):
    """alice posts an Observation taken at the private site before the public period."""
    datastream = sta.datastream(world.public_node, sta.co2)
    secret = FeatureOfInterest.objects.get(name="secretA site")
    secret.feature = {"type": "Point", "coordinates": SECRET}
    secret.save()
    body = {
        "phenomenonTime": "2025-06-01T00:00:00Z",
        "result": 1,
        "FeatureOfInterest": {"@iot.id": secret.pk},
    }
    answer = client_for(world.alice).post(
        f"{ROOT}Datastreams({datastream.pk})/Observations",
        json.dumps(body),
        content_type="application/json",
    )
    assert answer.status_code == 201, answer.content
    return datastream


def area(client, datastream) -> object:
    answer = client.get(f"{ROOT}Datastreams({datastream.pk})", {"$select": "observedArea"})
    assert answer.status_code == 200, answer.content
    return answer.json()["observedArea"]


def test_members_read_the_area_others_read_null(world, client_for, backfilled):
    assert str(SECRET[0]) in json.dumps(area(client_for(world.alice), backfilled))
    assert str(SECRET[0]) in json.dumps(area(client_for(world.bob), backfilled))  # inspector
    for outsider in (None, world.charlie):
        assert area(client_for(outsider), backfilled) is None
    # the whole entity and the collection say the same
    whole = client_for(None).get(f"{ROOT}Datastreams({backfilled.pk})").json()
    assert whole["observedArea"] is None
    listed = client_for(None).get(f"{ROOT}Datastreams").json()["value"]
    assert all(d["observedArea"] is None for d in listed)
    assert str(SECRET[0]) not in json.dumps(listed)


def test_a_geospatial_filter_on_the_area_finds_nothing_for_outsiders(world, client_for, backfilled):
    around = "st_within(observedArea, geography'POLYGON((11 48, 12 48, 12 49, 11 49, 11 48))')"
    query = {"$filter": around, "$select": "id"}
    found = client_for(world.alice).get(f"{ROOT}Datastreams", query).json()["value"]
    assert backfilled.pk in {d["@iot.id"] for d in found}
    for outsider in (None, world.charlie):
        answer = client_for(outsider).get(f"{ROOT}Datastreams", query)
        assert answer.status_code == 200
        assert backfilled.pk not in {d["@iot.id"] for d in answer.json()["value"]}
    near = f"geo.distance(observedArea, geography'POINT({SECRET[0]} {SECRET[1]})') lt 0.01"
    answer = client_for(None).get(f"{ROOT}Datastreams", {"$filter": near})
    assert backfilled.pk not in {d["@iot.id"] for d in answer.json()["value"]}


def test_outsiders_compare_and_order_the_area_as_null(world, client_for, backfilled):
    def ids(client, query) -> list[int]:
        answer = client.get(f"{ROOT}Datastreams", {**query, "$select": "id"})
        assert answer.status_code == 200, answer.content
        return [d["@iot.id"] for d in answer.json()["value"]]

    alice, anonymous = client_for(world.alice), client_for(None)
    assert backfilled.pk in ids(alice, {"$filter": "observedArea ne null"})
    assert backfilled.pk not in ids(anonymous, {"$filter": "observedArea ne null"})
    assert backfilled.pk in ids(anonymous, {"$filter": "observedArea eq null"})
    # nulls order last ascending: the hidden area sorts with the Datastreams without one
    ordered = ids(anonymous, {"$orderby": "observedArea desc,id asc"})
    nulls_first = ids(anonymous, {"$filter": "observedArea eq null", "$orderby": "id"})
    assert ordered[: len(nulls_first)] == nulls_first
    # a member of another organization: his own areas order, org A's as null
    charlie = client_for(world.charlie)
    ordered = ids(charlie, {"$orderby": "observedArea desc,id asc"})
    nulls_first = ids(charlie, {"$filter": "observedArea eq null", "$orderby": "id"})
    assert backfilled.pk in nulls_first and ordered[: len(nulls_first)] == nulls_first
