"""Security of $filter and $orderby (review SEC-2, SEC-4, SEC-6): a hidden related entity
is no oracle, geospatial functions test only the reader's rows and small literals, and
every query option has bounded size with a precise 400."""

import pytest

from sensorgrid.sensorthings import models as m
from sensorgrid.sensorthings.query import apply, parse_options
from sensorgrid.sensorthings.query import functions as sf
from sensorgrid.sensorthings.schema import ENTITY_SETS
from sensorgrid.sensorthings.walls import visible

pytestmark = pytest.mark.django_db

ROOT = "/sta/v1.1/"


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["@iot.id"] for row in response.json()["value"]]


def get(client, path, **params):
    return client.get(ROOT + path, params)


@pytest.fixture
def secret(world, sta, client_for):
    """alice's Observation in the PUBLIC Datastream with her own private
    FeatureOfInterest (the Observation is public, its FeatureOfInterest is not)."""
    alice = client_for(world.alice)
    public = sta.datastream(world.public_node, sta.co2)
    response = alice.post(
        ROOT + "Observations",
        {
            "phenomenonTime": "2026-03-02T00:00:00Z",
            "result": 7,
            "Datastream": {"@iot.id": public.pk},
            "FeatureOfInterest": {
                "name": "Aaa secret lab 42",
                "description": "private",
                "encodingType": "application/geo+json",
                "feature": {"type": "Point", "coordinates": [7.1, 50.2]},
                "properties": {"pin": "1234"},
            },
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    return response.json()["@iot.id"]


HIDDEN_FILTERS = [
    "FeatureOfInterest/name eq 'Aaa secret lab 42'",
    "startswith(FeatureOfInterest/name, 'Aaa')",
    "FeatureOfInterest/properties/pin eq '1234'",
    "FeatureOfInterest/name in ('Aaa secret lab 42', 'x')",
    "geo.intersects(FeatureOfInterest/feature, "
    "geography'POLYGON((7 50, 7.2 50, 7.2 50.3, 7 50.3, 7 50))')",
    "Datastream/Thing/Datastreams/Observations/FeatureOfInterest/name eq 'Aaa secret lab 42'",
]


@pytest.mark.parametrize("expression", HIDDEN_FILTERS)
def test_a_hidden_feature_of_interest_is_no_filter_oracle(world, secret, client_for, expression):
    alice = client_for(world.alice)
    # its owner finds the Observation by its FeatureOfInterest …
    assert secret in ids(get(alice, "Observations", **{"$filter": expression}))
    for reader in (client_for(None), client_for(world.charlie)):
        # … others see the Observation, not its FeatureOfInterest …
        assert get(reader, f"Observations({secret})").status_code == 200
        assert get(reader, f"Observations({secret})/FeatureOfInterest").status_code == 404
        # … and cannot learn it by filtering (true and false answers are the same)
        assert secret not in ids(get(reader, "Observations", **{"$filter": expression}))
        negated = ids(get(reader, "Observations", **{"$filter": f"not ({expression})"}))
        negated_other = ids(
            get(
                reader,
                "Observations",
                **{"$filter": "not (" + expression.replace("Aaa", "Zzz") + ")"},
            )
        )
        assert (secret in negated) == (secret in negated_other)


def test_a_hidden_feature_of_interest_orders_as_a_missing_one(world, secret, client_for):
    anonymous = client_for(None)
    ascending = ids(get(anonymous, "Observations", **{"$orderby": "FeatureOfInterest/name"}))
    named = ids(get(anonymous, "Observations", **{"$filter": "FeatureOfInterest/name ne null"}))
    assert named and secret not in named
    # "Aaa…" would come first; as a missing name it comes after every named one
    assert all(ascending.index(o) < ascending.index(secret) for o in named)
    as_null = ids(
        get(
            anonymous,
            "Observations",
            **{"$orderby": "FeatureOfInterest/name", "$filter": f"id eq {secret}"},
        )
    )
    assert as_null == [secret]
    # alice (who sees it) still orders by it
    alice = client_for(world.alice)
    assert secret in ids(get(alice, "Observations", **{"$orderby": "FeatureOfInterest/name"}))


def test_without_a_to_one_path_the_query_has_no_extra_subquery(world, sta):
    """The common Observations-by-phenomenonTime read costs nothing more: the walls of
    to-one paths appear only when a path crosses one."""
    es = ENTITY_SETS["Observations"]

    def sql(options, user):
        parsed = parse_options(options, es)
        qs = apply(m.ObservationRow.objects.all(), es, parsed, visible=lambda s: visible(s, user))
        return str(qs.query)

    plain = {"$filter": "phenomenonTime ge 2026-01-01T00:00:00Z", "$orderby": "phenomenonTime"}
    unwalled = str(apply(m.ObservationRow.objects.all(), es, parse_options(plain, es)).query)
    assert sql(plain, world.alice) == unwalled
    walled = sql({"$filter": "FeatureOfInterest/name eq 'x'"}, world.alice)
    assert "sensorthings_featureofinterest" in walled.lower()


# -- SEC-6: sizes ------------------------------------------------------------------------


def test_in_with_a_thousand_values_is_one_sql_in(world, sta, client_for):
    alice = client_for(world.alice)
    everything = ids(get(alice, "Things"))
    listed = ",".join(str(i) for i in [*range(100_000, 100_999), everything[0]])
    assert ids(get(alice, "Things", **{"$filter": f"id in ({listed})"})) == [everything[0]]
    names = ",".join(f"'n{i}'" for i in range(999))
    assert ids(get(alice, "Things", **{"$filter": f"name in ({names})"})) == []


def test_in_keeps_its_meaning(world, sta, client_for):
    alice = client_for(world.alice)
    everything = ids(get(alice, "Things"))
    two = ",".join(str(i) for i in everything[:2])
    assert ids(get(alice, "Things", **{"$filter": f"id in ({two})"})) == everything[:2]
    assert ids(get(alice, "Things", **{"$filter": f"not (id in ({two}))"})) == everything[2:]
    ds = sta.datastream(world.node_a, sta.co2)
    found = ids(
        get(alice, f"Datastreams({ds.pk})/Observations", **{"$filter": "result in (21, 3)"})
    )
    expected = ids(
        get(
            alice,
            f"Datastreams({ds.pk})/Observations",
            **{"$filter": "result eq 21 or result eq 3"},
        )
    )
    assert found == expected


@pytest.mark.parametrize(
    ("path", "params", "message"),
    [
        ("Things", {"$filter": "id in (" + ",".join(map(str, range(1001))) + ")"}, "1000 values"),
        ("Things", {"$orderby": ",".join(["name"] * 21)}, "at most 20 keys"),
        ("Things", {"$orderby": ",".join(["name"] * 5_000)}, "at most 20 keys"),
        ("Things", {"$expand": "Datastreams($orderby=" + ",".join(["name"] * 21) + ")"}, "20 keys"),
        ("Things", {"$filter": "properties/" + "/".join(["a"] * 40) + " eq 1"}, "steps"),
        ("Things", {"$orderby": "properties/" + "/".join(["a"] * 40)}, "steps"),
        (
            "Things",
            {"$filter": " or ".join(["(" + " or ".join(["id eq 1"] * 10) + ")"] * 20)},
            "terms",
        ),
        ("Things", {"$filter": "name eq '" + "a" * 200_000 + "'"}, "longer than"),
    ],
)
def test_oversized_options_are_a_precise_400(world, client_for, path, params, message):
    response = get(client_for(None), path, **params)
    assert response.status_code == 400, response.content[:200]
    assert message in response.json()["message"]


# -- SEC-4: geospatial -------------------------------------------------------------------


def test_geospatial_functions_test_only_the_readers_rows(world, client_for, monkeypatch):
    square = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
    for organization, name in ((world.org_a, "mine"), (world.org_b, "theirs")):
        m.Location.objects.create(
            organization=organization,
            name=name,
            encoding_type="application/geo+json",
            location=square,
        )
    tested: list[str] = []
    stored = sf.stored_geometry

    def counting(value):
        tested.append("x")
        return stored(value)

    monkeypatch.setattr(sf, "stored_geometry", counting)
    alice = client_for(world.alice)
    response = get(
        alice,
        "Locations",
        **{"$filter": "geo.distance(location, geography'POINT(0.5 0.5)') lt 1"},
    )
    assert [row["name"] for row in response.json()["value"]] == ["mine"]
    # only alice's candidate was loaded into Python, never org B's row (same place)
    assert len(tested) == 1


def test_a_huge_geography_literal_is_a_400(world, client_for):
    wkt = "MULTIPOINT(" + ",".join(["0 0"] * 10_001) + ")"
    response = get(
        client_for(None), "Locations", **{"$filter": f"st_within(location, geography'{wkt}')"}
    )
    assert response.status_code == 400
    assert "vertices" in response.json()["message"]
    small = "POLYGON((0 0, 1 0, 1 1, 0 1, 0 0))"
    response = get(
        client_for(None), "Locations", **{"$filter": f"st_within(location, geography'{small}')"}
    )
    assert response.status_code == 200


def test_pages_ordered_by_a_hidden_name_are_complete(world, secret, client_for):
    anonymous = client_for(None)
    order = {"$orderby": "FeatureOfInterest/name desc", "$select": "id"}
    everything = ids(get(anonymous, "Observations", **order))
    seen: list[int] = []
    response = get(anonymous, "Observations", **order, **{"$top": "2"})
    while True:
        seen += ids(response)
        link = response.json().get("@iot.nextLink")
        if link is None:
            break
        response = anonymous.get(link)
    assert seen == everything
    assert secret in seen


def test_a_hidden_feature_of_interest_is_null(world, secret, client_for):
    is_null = {"$filter": "FeatureOfInterest/name eq null", "$select": "id"}
    assert secret in ids(get(client_for(None), "Observations", **is_null))
    assert secret in ids(get(client_for(world.charlie), "Observations", **is_null))
    assert secret not in ids(get(client_for(world.alice), "Observations", **is_null))
    not_null = {"$filter": "FeatureOfInterest/name ne null", "$select": "id"}
    assert secret not in ids(get(client_for(None), "Observations", **not_null))
    assert secret in ids(get(client_for(world.alice), "Observations", **not_null))


def test_a_hidden_feature_of_interest_is_no_pivot_to_its_observations(
    world, sta, secret, client_for
):
    """Attack: the public Observation ``secret`` has alice's private FeatureOfInterest;
    a second public Observation has it too. charlie cannot read that FeatureOfInterest,
    but ``FeatureOfInterest/Observations/id eq <secret>`` crossed it to its (visible)
    Observations: it told him that the hidden entity exists and which public
    Observations were measured at the same hidden place."""
    alice = client_for(world.alice)
    feature = get(alice, f"Observations({secret})/FeatureOfInterest").json()["@iot.id"]
    public = sta.datastream(world.public_node, sta.co2)
    response = alice.post(
        ROOT + "Observations",
        {
            "phenomenonTime": "2026-03-02T01:00:00Z",
            "result": 8,
            "Datastream": {"@iot.id": public.pk},
            "FeatureOfInterest": {"@iot.id": feature},
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    sibling = response.json()["@iot.id"]
    pivot = {"$filter": f"FeatureOfInterest/Observations/id eq {secret}"}
    assert set(ids(get(alice, "Observations", **pivot))) == {secret, sibling}
    for reader in (client_for(None), client_for(world.charlie)):
        assert get(reader, f"Observations({sibling})").status_code == 200
        assert ids(get(reader, "Observations", **pivot)) == []
        # its negation is true for both, as for Observations without a FeatureOfInterest
        negated = ids(get(reader, "Observations", **{"$filter": f"not ({pivot['$filter']})"}))
        assert {secret, sibling} <= set(negated)
