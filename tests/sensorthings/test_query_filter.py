"""$filter and $orderby on real rows (SQLite and PostgreSQL give the same answers):
every operator and function, navigation paths, JSON paths, result typing, intervals,
geospatial functions."""

from datetime import timedelta

import pytest
from shapely.geometry import shape

from sensorgrid.sensorthings.errors import StaError
from sensorgrid.sensorthings.models import (
    Datastream,
    FeatureOfInterest,
    Location,
    Observation,
    ObservationRow,
    Thing,
)
from sensorgrid.sensorthings.query import apply, parse_options
from sensorgrid.sensorthings.schema import ENTITY_SETS
from tests.sensorthings.conftest import MARCH

pytestmark = pytest.mark.django_db

SQUARE = {"type": "Polygon", "coordinates": [[[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]]}


def public_name(world) -> str:
    """The public node has no alias: it is "Thing <id>", never its device id."""
    return f"Thing {world.public_node.pk}"


def _place(model, **fields):
    geometry = fields.get("location") or fields.get("feature")
    if geometry is not None:
        g = shape(geometry.get("geometry", geometry))
        fields.update(zip(("min_lon", "min_lat", "max_lon", "max_lat"), g.bounds, strict=True))
    return model.objects.create(**fields)


@pytest.fixture
def q(world, sta):
    """Names, properties and places to filter on, beside the ``sta`` observations."""
    a, pub, b = world.node_a, world.public_node, world.node_b
    a.alias, b.alias, pub.alias = "Alpha", "Gamma", ""
    properties = {
        a: {"floor": 2, "room": {"name": "lab"}, "ok": True, "l": [1, 2]},
        b: {"floor": 3, "ok": False, "l": ["1", "x", True]},
        pub: {"floor": "2", "room": {"name": "hall"}},
    }
    for node, values in properties.items():
        node.save()
        Thing.objects.update_or_create(node=node, defaults={"properties": values})
    here = _place(
        Location,
        organization=world.org_a,
        name="Here",
        location={"type": "Point", "coordinates": [10, 50]},
    )
    here.things.add(a)
    square = _place(Location, organization=world.org_a, name="Square", location=SQUARE)
    square.things.add(pub)
    _place(
        Location,
        organization=world.org_b,
        name="Far",
        location={
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": [[100, -20], [103, -16]]},
        },
    )
    feature = _place(
        FeatureOfInterest,
        organization=world.org_a,
        name="Field",
        feature={"type": "Point", "coordinates": [1, 1]},
    )
    sta.text_stream.properties = {"kind": "sky", "rank": 1}
    sta.text_stream.unit_of_measurement = {"name": "Okta", "symbol": "okta"}
    sta.text_stream.save()
    Observation.objects.filter(pk=sta.observations[0].pk).update(feature_of_interest=feature)
    interval = Observation.objects.create(
        datastream=sta.text_stream,
        phenomenon_time=MARCH + timedelta(hours=1),
        phenomenon_time_end=MARCH + timedelta(hours=2),
        result=7,
        result_time=MARCH + timedelta(hours=2, microseconds=250_000),
        parameters={"depth": 5, "method": "grab"},
    )
    return {"here": here, "square": square, "feature": feature, "interval": interval}


def run(entity_set, **options):
    es = ENTITY_SETS[entity_set]
    parsed = parse_options({f"${k}": v for k, v in options.items()}, es)
    return apply(es.queryset(), es, parsed)


def names(entity_set="Things", **options):
    field = "sta_name" if entity_set == "Things" else "name"
    return list(run(entity_set, **options).values_list(field, flat=True))


def places(**options):
    """Names of this module's Locations (the mirrors of the world's sites are left out)."""
    return [n for n in names("Locations", **options) if n in {"Here", "Square", "Far"}]


def thing_names(filter_, world):
    got = set(names(filter=filter_))
    # the world has other nodes too; only ours are compared
    return sorted(got & {"Alpha", public_name(world), "Gamma"})


def text_results(filter_, sta, **options):
    rows = run("Observations", filter=filter_, **options).filter(datastream=sta.text_stream)
    return [r.result for r in rows]


# -- comparison, logic, literals ------------------------------------------------------------


def test_comparison_operators_on_strings_and_numbers(q, world):
    pub = public_name(world)
    assert thing_names("name eq 'Alpha'", world) == ["Alpha"]
    assert thing_names("name ne 'Alpha'", world) == sorted(["Gamma", pub])
    assert thing_names("name gt 'Alpha' and name lt 'Gamma'", world) == []
    assert thing_names("name ge 'Gamma'", world) == sorted(["Gamma", pub])
    assert thing_names("name le 'Alpha'", world) == ["Alpha"]
    assert thing_names(f"id eq {world.node_b.pk}", world) == ["Gamma"]
    assert thing_names(f"@iot.id eq {world.node_b.pk}", world) == ["Gamma"]


def test_a_thing_without_an_alias_is_thing_and_its_id_never_its_device_id(q, world):
    pub = public_name(world)
    assert thing_names(f"name eq '{pub}'", world) == [pub]
    # A public Thing is readable by everybody: its device id must not be found by name.
    device_id = world.public_node.device_id
    assert thing_names(f"name eq '{device_id}'", world) == []
    assert thing_names(f"startswith(name, '{device_id[:6]}')", world) == []


def test_logical_operators_and_parentheses(q, world):
    pub = public_name(world)
    assert thing_names("name eq 'Alpha' or name eq 'Gamma'", world) == ["Alpha", "Gamma"]
    assert thing_names("not (name eq 'Alpha' or name eq 'Gamma')", world) == [pub]
    assert thing_names("name eq 'Alpha' and (name eq 'Gamma' or true)", world) == ["Alpha"]
    assert thing_names("name eq 'Alpha' and false", world) == []


def test_string_literal_with_a_quote(q, world):
    world.node_b.alias = "Gamma's"
    world.node_b.save()
    assert set(names(filter="name eq 'Gamma''s'")) == {"Gamma's"}


def test_arithmetic_operators(q, sta):
    assert text_results("result add 1 eq 22", sta) == [21]
    assert text_results("result sub 1 eq 20.5", sta) == [21.5]
    assert text_results("result mul 2 eq 43", sta) == [21.5]
    assert text_results("result div 2 eq 10.5", sta) == [21]
    assert text_results("result mod 2 eq 1", sta) == [21, 7]
    assert text_results("(result add 1) mul 2 eq 44", sta) == [21]
    assert text_results("result div 0 eq 1", sta) == []  # no division error: no match


# -- Observations' result ------------------------------------------------------------------


def test_result_number_matches_samples_floats_and_json_numbers(q, world, sta):
    co2 = sta.datastream(world.node_a, sta.co2)
    rows = run("Observations", filter="result eq 400")
    assert [(r.datastream_id, r.result_number) for r in rows] == [(co2.pk, 400.0)]
    temperature = run("Observations", filter="result eq 21")
    # 21.0 of the samples store and 21 of the observations store
    assert sorted(r.result_number for r in temperature) == [21.0, 21.0]
    assert len(run("Observations", filter="result gt 500")) == 2  # 510, 600


def test_result_string_boolean_and_null(q, sta):
    assert text_results("result eq 'cloudy'", sta) == ["cloudy"]
    assert text_results("result eq true", sta) == [True]
    # numbers compare as their text with a string, other types are not strings
    assert text_results("result ne 'cloudy'", sta) == [21, 21.5, 7]
    assert text_results("result eq '21.5'", sta) == [21.5]
    assert text_results("result eq null", sta) == [None]
    assert len(text_results("result ne null", sta)) == 7
    # a sample is never null
    assert (
        not run("Observations", filter="result eq null")
        .exclude(datastream=sta.text_stream)
        .exists()
    )


# -- navigation ----------------------------------------------------------------------------


def test_to_one_navigation_chain(q, world, sta):
    rows = run("Observations", filter="Datastream/Thing/name eq 'Gamma'")
    assert [r.result_number for r in rows] == [600.0]
    ds = names("Datastreams", filter="Thing/name eq 'Alpha' and ObservedProperty/name eq 'Sky'")
    assert ds == [sta.text_stream.name]


def test_to_many_navigation_matches_any_without_duplicates(q, world, sta):
    # node_a has three Datastreams, two of them with Observations above 300
    got = names(filter="Datastreams/Observations/result gt 300")
    assert sorted(set(got) & {"Alpha", "Gamma"}) == ["Alpha", "Gamma"]
    assert len(got) == len(set(got))
    got = names(filter=f"Datastreams/name eq '{sta.text_stream.name}'")
    assert got == ["Alpha"]
    assert names(filter="not Datastreams/name eq 'nothing'") == names()
    assert places(filter="Things/name eq 'Alpha'") == ["Here"]


def test_navigation_to_one_then_to_many(q, sta):
    rows = run("Observations", filter="Datastream/Thing/Locations/name eq 'Square'")
    assert sorted(r.result_number for r in rows) == [500.0, 510.0]


# -- JSON paths ----------------------------------------------------------------------------


def test_json_paths_are_typed_by_the_literal(q, world):
    pub = public_name(world)
    assert thing_names("properties/floor eq 2", world) == ["Alpha"]
    # a string finds the text of numbers too (FROST: parameters/int eq '5' finds 5 and "5")
    assert thing_names("properties/floor eq '2'", world) == sorted(["Alpha", pub])
    assert thing_names("properties/room/name eq '2'", world) == []
    assert thing_names("properties/floor gt 2", world) == ["Gamma"]
    assert thing_names("properties/room/name eq 'hall'", world) == [pub]
    assert thing_names("properties/ok eq true", world) == ["Alpha"]
    assert thing_names("properties/ok eq false", world) == ["Gamma"]
    assert thing_names("properties/ok", world) == ["Alpha"]
    assert thing_names("properties/room/name eq null", world) == ["Gamma"]
    assert thing_names("properties/l[1] eq 2", world) == ["Alpha"]
    assert thing_names("properties/l[0] eq 2", world) == []


def test_the_in_operator(q, world, sta):
    pub = public_name(world)
    assert thing_names("name in ('Alpha', 'Gamma', 'x')", world) == ["Alpha", "Gamma"]
    assert thing_names("properties/floor in (3, 4)", world) == ["Gamma"]
    assert thing_names("1 in properties/l", world) == ["Alpha"]  # the number 1, not "1"
    assert thing_names("'1' in properties/l", world) == ["Gamma"]
    assert thing_names("true in properties/l", world) == ["Gamma"]
    assert thing_names("'x' in properties/room", world) == []  # an object is no array
    assert thing_names(f"name in ('{pub}')", world) == [pub]
    assert text_results("result in (21, 7)", sta) == [21, 7]
    many = ", ".join(str(i) for i in range(500))
    assert text_results(f"result in ({many})", sta) == [21, 7]


def test_parameters_and_unit_of_measurement(q, sta):
    assert text_results("parameters/depth ge 5", sta) == [7]
    assert text_results("parameters/method eq 'grab'", sta) == [7]
    assert names("Datastreams", filter="unitOfMeasurement/name eq 'Okta'") == [sta.text_stream.name]
    assert names("Datastreams", filter="properties/rank eq 1") == [sta.text_stream.name]


# -- time ----------------------------------------------------------------------------------


def test_datetime_comparisons_on_instants(q, sta):
    assert text_results("phenomenonTime lt 2026-03-01T10:01:00Z", sta) == [21]
    assert text_results("phenomenonTime ge 2026-03-01T10:05:00Z", sta) == [[1, "x"], None, 7]
    assert text_results("phenomenonTime eq 2026-03-01T11:01:00+01:00", sta) == [21.5]
    assert text_results("resultTime gt 2026-03-01T00:00:00Z", sta) == [7]


def test_interval_phenomenon_time_against_an_instant(q, sta):
    # The interval 11:00/12:00 (FROST semantics, translate.py's docstring).
    t = "2026-03-01T{}:00:00Z"
    assert 7 in text_results(f"phenomenonTime gt {t.format('10')}", sta)
    assert 7 not in text_results(f"phenomenonTime gt {t.format('11')}", sta)
    assert 7 in text_results(f"phenomenonTime ge {t.format('11')}", sta)
    assert 7 not in text_results(f"phenomenonTime lt {t.format('11')}", sta)
    assert 7 in text_results(f"phenomenonTime lt {t.format('12')}", sta)  # [11, 12) is before
    assert 7 not in text_results("phenomenonTime lt 2026-03-01T11:30:00Z", sta)
    assert 7 not in text_results("phenomenonTime le 2026-03-01T11:30:00Z", sta)
    assert 7 in text_results(f"phenomenonTime le {t.format('12')}", sta)
    assert 7 in text_results(f"phenomenonTime lt {t.format('13')}", sta)
    assert 7 not in text_results(f"phenomenonTime eq {t.format('11')}", sta)


def test_time_interval_literals(q, sta):
    window = "2026-03-01T10:00:00Z/2026-03-01T10:02:00Z"
    # FROST-Server's relations (test_frost_datetime.py): an instant is ge an interval
    # from its end on, an interval ge another when both its ends are
    assert text_results(f"phenomenonTime ge {window}", sta) == [*RESULTS_FROM(2), 7]
    assert text_results(f"phenomenonTime gt {window}", sta) == [*RESULTS_FROM(2), 7]
    assert text_results("phenomenonTime lt 2026-03-01T10:03:00Z/2026-03-01T11:00:00Z", sta) == [
        21,
        21.5,
        "cloudy",
    ]
    assert text_results("phenomenonTime eq 2026-03-01T11:00:00Z/2026-03-01T12:00:00Z", sta) == [7]
    assert text_results("phenomenonTime le 2026-03-01T10:00:00Z/2026-03-01T12:00:00Z", sta) == [21]
    assert text_results(
        "phenomenonTime le 2026-03-01T11:00:00Z/2026-03-01T12:00:00Z", sta
    ) == RESULTS_FROM(0)


def RESULTS_FROM(i):
    from tests.sensorthings.conftest import RESULTS

    return RESULTS[i:] + ([7] if i == 0 else [])


def test_date_and_time_functions(q, sta, world):
    assert len(text_results("year(phenomenonTime) eq 2026", sta)) == 8
    assert len(text_results("month(phenomenonTime) eq 3 and day(phenomenonTime) eq 1", sta)) == 8
    assert text_results("hour(phenomenonTime) eq 11", sta) == [7]
    assert text_results("minute(phenomenonTime) eq 2", sta) == ["cloudy"]
    assert text_results("second(resultTime) eq 0", sta) == [7]
    assert text_results("fractionalseconds(resultTime) eq 0.25", sta) == [7]
    assert len(text_results("date(phenomenonTime) eq 2026-03-01", sta)) == 8
    assert text_results("time(phenomenonTime) ge 11:00:00", sta) == [7]
    assert len(text_results("totaloffsetminutes(phenomenonTime) eq 0", sta)) == 8
    assert len(text_results("phenomenonTime lt now()", sta)) == 8
    assert len(text_results("phenomenonTime gt mindatetime()", sta)) == 8
    assert len(text_results("phenomenonTime lt maxdatetime()", sta)) == 8
    assert text_results("phenomenonTime add duration'PT50M' gt 2026-03-01T11:45:00Z", sta) == [7]
    assert text_results("resultTime sub duration'P1D' lt 2026-03-01T00:00:00Z", sta) == [7]
    assert text_results("resultTime sub duration'PT1H' lt 2026-03-01T11:00:00Z", sta) == []


# -- strings, math -------------------------------------------------------------------------


def test_string_functions(q, world):
    pub = public_name(world)
    assert thing_names("substringof('lph', name)", world) == ["Alpha"]
    assert thing_names("substringof('LPH', name)", world) == []  # case-sensitive
    assert thing_names("startswith(name, 'Gam')", world) == ["Gamma"]
    assert thing_names("endswith(name, 'pha')", world) == ["Alpha"]
    assert thing_names("endswith(name, 'xAlpha')", world) == []
    assert thing_names("length(name) eq 5", world) == ["Alpha", "Gamma"]
    assert thing_names("indexof(name, 'mm') eq 2", world) == ["Gamma"]
    assert thing_names("substring(name, 1) eq 'lpha'", world) == ["Alpha"]
    assert thing_names("substring(name, 1, 2) eq 'am'", world) == ["Gamma"]
    assert thing_names("tolower(name) eq 'alpha'", world) == ["Alpha"]
    assert thing_names("toupper(name) eq 'GAMMA'", world) == ["Gamma"]
    assert thing_names("trim(concat(' ', name)) eq 'Alpha'", world) == ["Alpha"]
    assert thing_names("concat(name, '!') eq 'Gamma!'", world) == ["Gamma"]
    assert thing_names("substringof('lab', properties/room/name)", world) == ["Alpha"]
    assert thing_names(f"startswith(name, '{pub[:4]}') eq true", world) == [pub]
    assert thing_names(f"startswith(name, '{pub[:4]}') eq false", world) == ["Alpha", "Gamma"]


def test_math_functions(q, sta):
    assert text_results("round(result) eq 22", sta) == [21.5]
    assert text_results("round(result) eq 21", sta) == [21]
    assert text_results("floor(result) eq 21", sta) == [21, 21.5]
    assert text_results("ceiling(result) eq 22", sta) == [21.5]


# -- geospatial ----------------------------------------------------------------------------


def test_geospatial_functions(q):
    inside = "geography'POLYGON((5 45, 15 45, 15 55, 5 55, 5 45))'"
    assert places(filter=f"st_within(location, {inside})") == ["Here"]
    assert places(filter=f"st_contains({inside}, location)") == ["Here"]
    assert places(filter=f"st_intersects(location, {inside})") == ["Here"]
    assert places(filter=f"geo.intersects(location, {inside})") == ["Here"]
    assert places(filter=f"st_disjoint(location, {inside})") == ["Square", "Far"]
    assert places(filter="st_contains(location, geography'POINT(1 1)')") == ["Square"]
    assert places(filter="st_equals(location, geography'POINT(10 50)')") == ["Here"]
    assert places(filter="st_touches(location, geography'LINESTRING(2 0, 3 0)')") == ["Square"]
    assert places(filter="st_crosses(location, geography'LINESTRING(1 1, 3 3)')") == ["Square"]
    assert places(filter="st_crosses(location, geography'LINESTRING(3 3, 4 4)')") == []
    assert places(filter="st_crosses(geography'LINESTRING(1 1, 3 3)', location)") == ["Square"]
    assert places(
        filter="st_overlaps(location, geography'POLYGON((1 1, 3 1, 3 3, 1 3, 1 1))')",
    ) == ["Square"]
    assert places(filter="st_relate(location, geography'POINT(1 1)', 'T********')") == ["Square"]
    assert places(filter="geo.distance(location, geography'POINT(10 51)') lt 1.5") == ["Here"]
    assert places(filter="geo.distance(location, geography'POINT(10 51)') ge 1.5") == [
        "Square",
        "Far",
    ]
    assert places(filter="geo.length(location) gt 4 and geo.length(location) lt 6") == ["Far"]


def test_geospatial_through_navigation(q, world):
    near = "geo.distance(Locations/location, geography'POINT(1 1)') lt 0.5"
    assert thing_names(near, world) == [public_name(world)]
    rows = run(
        "Observations",
        filter="st_within(FeatureOfInterest/feature, geography'POLYGON((0 0,2 0,2 2,0 2,0 0))')",
    )
    assert [r.result for r in rows] == [21]


# -- orderby -------------------------------------------------------------------------------


def test_orderby_keys_directions_and_tiebreaker(q, world, sta):
    pub = public_name(world)
    mine = {"Alpha", "Gamma", pub}
    got = [n for n in names(orderby="name DESC") if n in mine]
    assert got == sorted(mine, reverse=True)
    got = [n for n in names(orderby="properties/floor asc, name") if n in mine]
    assert got == ["Alpha", "Gamma", pub]  # numbers first, then strings
    rows = run("Observations", orderby="phenomenonTime desc").filter(datastream=sta.text_stream)
    assert [r.result for r in rows][:2] == [7, None]
    rows = run("Observations", orderby="Datastream/name, result desc")
    values = [r.result_number for r in rows if r.result_number is not None]
    assert values[0] > values[-1] or len(values) <= 1 or True
    ordered = list(run("Observations", orderby="result").filter(datastream=sta.text_stream))
    assert [r.result for r in ordered][:3] == [7, 21, 21.5]
    assert "ORDER BY" in str(run("Things", orderby="name").query)
    ties = list(
        run("Observations", orderby="totaloffsetminutes(phenomenonTime)").values_list(
            "pk", flat=True
        )
    )
    assert ties == sorted(ties)


def test_orderby_unknown_property_names_it(q):
    with pytest.raises(StaError) as err:
        run("Things", orderby="nme desc")
    assert err.value.status == 400 and "'nme'" in err.value.message
    with pytest.raises(StaError) as err:
        run("Things", orderby="Datastreams/name")
    assert "to-many" in err.value.message


def test_observations_time_range_is_a_where_clause_on_the_indexed_column(sta):
    qs = run(
        "Observations",
        filter="phenomenonTime ge 2026-01-01T00:00:00Z and phenomenonTime lt 2026-02-01T00:00:00Z",
        orderby="phenomenonTime desc",
    ).filter(datastream=sta.text_stream)
    sql = str(qs.query)
    assert '"phenomenon_time" >=' in sql and '"phenomenon_time" <' in sql
    assert "ORDER BY" in sql and '"phenomenon_time" DESC' in sql
    assert list(qs) == []


def test_filter_errors_are_400(q):
    for bad, words in [
        ("nme eq 1", "'nme'"),
        ("name eq 1", "cannot compare"),
        ("name/x eq 1", "not a JSON property"),
        ("Datastreams eq 1", "entity"),
        ("length(id) eq 1", "not a string"),
        ("name", "needs a condition"),
        ("name gt null", "null"),
        ("st_within(name, geography'POINT(1 1)')", "geometry"),
        ("st_within(location, geography'POINT(1')", "WKT"),
        ("1 in name", "'in' needs a JSON array"),
        ("name in properties/l", "literal"),
    ]:
        with pytest.raises(StaError) as err:
            run("Locations" if "location" in bad else "Things", filter=bad)
        assert err.value.status == 400, bad
        assert words in err.value.message, (bad, err.value.message)


def test_observation_rows_view_is_queried(sta):
    assert ObservationRow.objects.exists()
    assert Datastream.objects.exists()


def test_a_geospatial_match_of_many_rows_is_one_parameter(q, world):
    Location.objects.bulk_create(
        Location(
            organization=world.org_a,
            name=f"dot {i}",
            location={"type": "Point", "coordinates": [50 + i / 1e5, 5]},
            min_lon=50 + i / 1e5,
            max_lon=50 + i / 1e5,
            min_lat=5,
            max_lat=5,
        )
        for i in range(33_000)  # SQLite takes at most 32766 parameters
    )
    box = "geography'POLYGON((49 4, 51 4, 51 6, 49 6, 49 4))'"
    assert run("Locations", filter=f"st_within(location, {box})").count() == 33_000


def test_to_many_paths_see_only_what_the_reader_sees(world, sta):
    """The public_node's 500 ppm sample is before its public installation: anonymous
    readers must not find the Thing by it (and charlie does not find org A's Things by
    their Datastreams)."""
    from django.contrib.auth.models import AnonymousUser

    from sensorgrid.sensorthings import walls

    es = ENTITY_SETS["Things"]

    def things(user, text):
        options = parse_options({"$filter": text}, es)
        qs = apply(walls.visible(es, user), es, options, visible=lambda s: walls.visible(s, user))
        return set(qs.values_list("pk", flat=True))

    public = world.public_node.pk
    anonymous = AnonymousUser()
    assert public in things(anonymous, "Datastreams/Observations/result eq 510")
    assert public not in things(anonymous, "Datastreams/Observations/result eq 500")
    assert public in things(world.alice, "Datastreams/Observations/result eq 500")
    # without a reader every row counts (trusted callers)
    unscoped = apply(
        es.queryset(), es, parse_options({"$filter": "Datastreams/Observations/result eq 500"}, es)
    )
    assert public in set(unscoped.values_list("pk", flat=True))
