"""Reading through /sta/v1.1/ (read.py, serialize.py, views.py): entities, paths,
property values, $ref, paging with nextLinks, $select and nested $expand, the walls."""

from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sensorgrid.sensorthings.models import Thing
from tests.sensorthings.conftest import MARCH, RESULTS

ROOT = "/sta/v1.1/"
BASE = "http://testserver/sta/v1.1/"


@pytest.fixture
def alice(client_for, world):
    return client_for(world.alice)


def get(client, path, params=None, status=200):
    response = client.get(ROOT + path, params or {})
    assert response.status_code == status, (path, response.status_code, response.content[:500])
    return response.json() if response.content and status != 204 else None


def follow(client, url):
    parts = urlsplit(url)
    response = client.get(f"{parts.path}?{parts.query}")
    assert response.status_code == 200, response.content[:500]
    return response.json()


def test_a_thing_has_control_information_properties_and_navigation_links(alice, sta, world):
    thing = get(alice, f"Things({world.node_a.pk})")
    link = f"{BASE}Things({world.node_a.pk})"
    assert thing["@iot.id"] == world.node_a.pk
    assert thing["@iot.selfLink"] == link
    assert thing["name"] == (world.node_a.alias or f"Thing {world.node_a.pk}")
    assert "description" in thing and "properties" in thing
    for nav in ("Locations", "HistoricalLocations", "Datastreams"):
        assert thing[f"{nav}@iot.navigationLink"] == f"{link}/{nav}"


def test_a_samples_datastream_spans_its_observations_and_integral_results_are_integers(
    alice, sta, world
):
    datastream = sta.datastream(world.node_a, sta.co2)
    body = get(alice, f"Datastreams({datastream.pk})")
    assert body["phenomenonTime"] == "2026-03-01T10:00:00Z/2026-03-01T10:05:00Z"
    assert body["resultTime"] is None
    assert body["observedArea"] is None or body["observedArea"]["type"] in (
        "Point",
        "Polygon",
        "LineString",
    )
    observations = get(alice, f"Datastreams({datastream.pk})/Observations")["value"]
    assert [o["result"] for o in observations] == [400, 410]
    assert isinstance(observations[0]["result"], int)
    assert observations[0]["phenomenonTime"] == "2026-03-01T10:00:00Z"
    assert "resultTime" in observations[0] and observations[0]["resultTime"] is None
    for nav in ("Datastream", "FeatureOfInterest"):
        assert f"{nav}@iot.navigationLink" in observations[0]


def test_results_of_every_json_type_come_back_as_stored(alice, sta):
    observations = get(alice, f"Datastreams({sta.text_stream.pk})/Observations")["value"]
    assert [o["result"] for o in observations] == RESULTS
    assert isinstance(observations[1]["result"], float)


def test_an_observation_read_by_its_id_through_every_path(alice, sta, world):
    datastream = sta.datastream(world.node_a, sta.co2)
    listed = get(alice, f"Datastreams({datastream.pk})/Observations")["value"][0]
    key = listed["@iot.id"]
    assert get(alice, f"Observations({key})") == listed
    assert get(alice, f"Things({world.node_a.pk})/Datastreams({datastream.pk})/Observations({key})")
    assert get(alice, f"Observations({key})/Datastream")["@iot.id"] == datastream.pk
    assert get(alice, f"Observations({key})/Datastream/Thing")["@iot.id"] == world.node_a.pk


def test_a_step_that_is_not_related_is_404(alice, sta, world):
    co2 = sta.datastream(world.node_a, sta.co2)
    get(alice, f"Things({world.public_node.pk})/Datastreams({co2.pk})", status=404)
    key = get(alice, f"Datastreams({co2.pk})/Observations")["value"][0]["@iot.id"]
    temperature = sta.datastream(world.node_a, sta.temperature)
    get(alice, f"Datastreams({temperature.pk})/Observations({key})", status=404)
    error = get(alice, f"Things({world.public_node.pk})/Datastreams({co2.pk})", status=404)
    assert error == {"code": 404, "type": "error", "message": error["message"]}


def test_another_organizations_entity_is_a_missing_one_in_every_path(client_for, sta, world):
    charlie = client_for(world.charlie)
    thing = world.node_a.pk
    datastream = sta.datastream(world.node_a, sta.co2).pk
    for path in (
        f"Things({thing})",
        f"Things({thing})/Datastreams",
        f"Things({thing})/name",
        f"Things({thing})/name/$value",
        f"Things({thing})/$ref",
        f"Datastreams({datastream})/Observations",
        f"Datastreams({datastream})/Thing",
    ):
        assert get(charlie, path, status=404)["code"] == 404
    missing = get(charlie, "Things(999999)", status=404)["message"]
    foreign = get(charlie, f"Things({thing})", status=404)["message"]
    assert missing.replace("999999", str(thing)) == foreign
    listed = get(charlie, "Things", {"$expand": "Datastreams($expand=Observations)"})
    # his own Thing and the public one, never org A's private one
    assert {t["@iot.id"] for t in listed["value"]} == {world.node_b.pk, world.public_node.pk}
    expanded = [d["@iot.id"] for t in listed["value"] for d in t["Datastreams"]]
    assert datastream not in expanded and sta.text_stream.pk not in expanded


def test_anonymous_sees_public_observations_only_within_the_public_period(
    client_for, alice, sta, world
):
    anonymous = client_for(None)
    datastream = sta.datastream(world.public_node, sta.co2)
    observations = get(anonymous, f"Datastreams({datastream.pk})/Observations")["value"]
    assert [o["phenomenonTime"] for o in observations] == ["2026-03-01T10:00:00Z"]
    with_count = get(anonymous, f"Datastreams({datastream.pk})/Observations", {"$count": "true"})
    assert with_count["@iot.count"] == 1
    get(anonymous, f"Datastreams({sta.datastream(world.node_a, sta.co2).pk})", status=404)
    # the span covers the public period only (a value before it exists, unseen)
    span = get(anonymous, f"Datastreams({datastream.pk})")["phenomenonTime"]
    assert span == "2026-03-01T10:00:00Z/2026-03-01T10:00:00Z"
    assert get(alice, f"Datastreams({datastream.pk})")["phenomenonTime"].startswith(
        "2025-12-31T12:00:00Z/"
    )


def test_a_property_its_raw_value_and_a_null_property(alice, sta, world):
    thing = f"Things({world.node_a.pk})"
    name = world.node_a.alias or world.node_a.device_id
    assert get(alice, f"{thing}/name") == {"name": name}
    raw = alice.get(f"{ROOT}{thing}/name/$value")
    assert raw.status_code == 200 and raw.content.decode() == name
    assert raw["Content-Type"].startswith("text/plain")
    assert get(alice, f"{thing}/id") == {"@iot.id": world.node_a.pk}
    datastream = f"Datastreams({sta.datastream(world.node_a, sta.co2).pk})"
    unit = alice.get(f"{ROOT}{datastream}/unitOfMeasurement/$value")
    assert unit.status_code == 200 and unit.content.startswith(b"{")
    assert alice.get(f"{ROOT}{datastream}/resultTime").status_code == 204
    assert alice.get(f"{ROOT}{datastream}/resultTime/$value").status_code == 204
    time = alice.get(f"{ROOT}{datastream}/phenomenonTime/$value").content.decode()
    assert time == "2026-03-01T10:00:00Z/2026-03-01T10:05:00Z"


def test_refs_are_self_links_only(alice, sta, world):
    thing = world.node_a.pk
    refs = get(alice, f"Things({thing})/Datastreams/$ref", {"$count": "true"})
    assert refs["@iot.count"] == 3
    assert all(list(item) == ["@iot.selfLink"] for item in refs["value"])
    assert refs["value"][0]["@iot.selfLink"].startswith(f"{BASE}Datastreams(")
    datastream = sta.datastream(world.node_a, sta.co2).pk
    assert get(alice, f"Datastreams({datastream})/Thing/$ref") == {
        "@iot.selfLink": f"{BASE}Things({thing})"
    }
    assert get(alice, f"Things({thing})/$ref") == {"@iot.selfLink": f"{BASE}Things({thing})"}


def test_paging_visits_every_observation_once_with_a_stable_count(alice, sta):
    path = f"Datastreams({sta.text_stream.pk})/Observations"
    page = get(alice, path, {"$top": "3", "$count": "true"})
    seen = [o["@iot.id"] for o in page["value"]]
    pages = 1
    while "@iot.nextLink" in page:
        link = page["@iot.nextLink"]
        assert link.startswith(BASE) and "$skiptoken=" in link and "$top=3" in link
        page = follow(alice, link)
        assert page["@iot.count"] == len(RESULTS)
        seen += [o["@iot.id"] for o in page["value"]]
        pages += 1
    assert pages == 3
    everything = [o["@iot.id"] for o in get(alice, path)["value"]]
    assert seen == everything == sorted(everything)
    skipped = get(alice, path, {"$top": "3", "$skip": "3"})
    assert [o["@iot.id"] for o in skipped["value"]] == everything[3:6]
    assert "@iot.nextLink" in skipped
    last = get(alice, path, {"$top": "3", "$skip": "6"})
    assert "@iot.nextLink" not in last and len(last["value"]) == 1


def test_top_zero_counts_and_limits_are_enforced(alice, sta):
    body = get(alice, "Observations", {"$top": "0", "$count": "true"})
    assert body["value"] == [] and body["@iot.count"] >= len(RESULTS)
    assert "$top" in get(alice, "Things", {"$top": "10001"}, status=400)["message"]
    for bad in ({"$top": "-1"}, {"$skip": "x"}, {"$count": "yes"}, {"$skiptoken": "garbage!"}):
        assert get(alice, "Observations", bad, status=400)["code"] == 400


def test_select_names_properties_ids_and_navigation_links(alice, sta, world):
    things = get(alice, "Things", {"$select": "id,name,Datastreams"})["value"]
    assert set(things[0]) == {"@iot.id", "name", "Datastreams@iot.navigationLink"}
    only_name = get(alice, f"Things({world.node_a.pk})", {"$select": "name"})
    assert list(only_name) == ["name"]
    assert "$select" in get(alice, "Things", {"$select": "nope"}, status=400)["message"]


def test_nested_expand_with_its_own_options_counts_and_next_links(alice, sta, world):
    body = get(
        alice,
        f"Things({world.node_a.pk})",
        {
            "$expand": "Datastreams($select=name,id;$count=true;"
            "$expand=Observations($top=1;$count=true))"
        },
    )
    datastreams = body["Datastreams"]
    assert body["Datastreams@iot.count"] == 3 == len(datastreams)
    assert all(
        set(d)
        == {"@iot.id", "name", "Observations", "Observations@iot.count"}
        | ({"Observations@iot.nextLink"} if d["Observations@iot.count"] > 1 else set())
        for d in datastreams
    )
    sky = next(d for d in datastreams if d["@iot.id"] == sta.text_stream.pk)
    assert sky["Observations@iot.count"] == len(RESULTS)
    assert len(sky["Observations"]) == 1
    rest = follow(alice, sky["Observations@iot.nextLink"])
    assert rest["value"][0]["result"] == RESULTS[1]
    # expanded entities carry no navigation links unless selected (as FROST)
    plain = get(alice, f"Things({world.node_a.pk})", {"$expand": "Datastreams"})
    assert not any(k.endswith("@iot.navigationLink") for k in plain["Datastreams"][0])
    assert "Datastreams@iot.navigationLink" in plain
    # a path-style expand and a to-one expansion
    observation = get(
        alice,
        f"Datastreams({sta.text_stream.pk})/Observations",
        {"$top": "1", "$expand": "Datastream/Thing"},
    )["value"][0]
    assert observation["Datastream"]["Thing"]["@iot.id"] == world.node_a.pk


def test_latest_observation_of_every_thing_takes_a_bounded_number_of_statements(alice, sta, world):
    from tests import factories as f
    from tests.sensorthings.conftest import write_samples

    expand = {"$expand": "Datastreams($expand=Observations($top=1))"}

    def statements() -> int:
        with CaptureQueriesContext(connection) as captured:
            body = get(alice, "Things", expand)
        assert all("Datastreams" in t for t in body["value"])
        # the token's lookup (and its last-used stamp once a minute) aside
        return sum("accounts_apitoken" not in q["sql"] for q in captured.captured_queries)

    few = statements()
    for i in range(6):
        node = f.NodeFactory(organization=world.org_a, device_id=f"more-{i}", model=world.model_a)
        write_samples((node, sta.co2, MARCH, 1.0 + i), (node, sta.temperature, MARCH, 2.0))
    from sensorgrid.sensorthings import mirror

    mirror.ensure()
    # Things, their Datastreams, their latest Observations (on PostgreSQL one statement per
    # store), and the walls' memberships and public periods: the same for 2 Things as for 8
    assert statements() == few <= 10


@pytest.mark.parametrize(
    "path",
    [
        "Things(1)/Datastreams(1)/Observations(1)/Datastream/Thing/Locations(1)/Things",
        "Observations(9223372036854775807)",
        "Observations(0)",
        "Datastreams(99999999)/Observations",
        "Things(1)/properties/$value/x",
        "%00",
        "Things(1)/Datastreams/$ref/$value",
        "$batch",
        "CreateObservations",
        "Things(1)/nam%C3%A9",
        "Things)(",
        "Things(" + "9" * 400 + ")",
    ],
)
def test_garbage_paths_are_4xx_errors(alice, sta, path):
    response = alice.get(ROOT + path)
    assert 400 <= response.status_code < 500, (path, response.status_code)


@pytest.mark.parametrize(
    "params",
    [
        {"$expand": "Datastreams("},
        {"$expand": "Datastreams($top=x)"},
        {"$expand": "Nope"},
        {"$expand": "Datastreams($foo=1)"},
        {"$expand": "Datastreams($expand=" * 20 + "Thing" + ")" * 20},
        {"$select": ""},
        {"$top": "1" * 40},
        {"$skip": "99999999999999999999"},
        {"$skiptoken": "WyJ4Il0"},
        {"$skiptoken": "W3siYSI6MX1d"},
        # a lone surrogate / a NUL where a name goes: a 500 before (security review, low)
        {"$orderby": "name", "$skiptoken": "WyJcdWQ4MDAiLDFd"},
        {"$orderby": "name", "$skiptoken": "WyJhXHUwMDAwIiwxXQ"},
        {"$unknown": "1"},
        {"$count": ""},
    ],
)
def test_garbage_options_are_400(alice, sta, params):
    response = alice.get(ROOT + "Things", params)
    assert response.status_code == 400, (params, response.content[:300])
    assert response.json()["type"] == "error"


def test_head_answers_like_get_without_a_body(alice, sta, world):
    assert alice.head(f"{ROOT}Things({world.node_a.pk})").status_code == 200
    missing = alice.head(f"{ROOT}Things(999999)")
    assert missing.status_code == 404 and missing.content == b""


def test_a_path_continues_into_json_properties(alice, sta, world):
    values = {"floor": {"rooms": [3, 4]}, "label": "east", "objs": [{"s": "x"}]}
    Thing.objects.update_or_create(node=world.node_a, defaults={"properties": values})
    thing = f"Things({world.node_a.pk})"
    assert get(alice, f"{thing}/properties/label") == {"label": "east"}
    assert get(alice, f"{thing}/properties/floor/rooms[1]") == {"rooms[1]": 4}
    assert get(alice, f"{thing}/properties/floor/rooms%5B0%5D") == {"rooms[0]": 3}
    assert get(alice, f"{thing}/properties/objs[0]/s") == {"s": "x"}
    raw = alice.get(f"{ROOT}{thing}/properties/floor/$value")
    assert raw.json() == {"rooms": [3, 4]}
    assert alice.get(f"{ROOT}{thing}/properties/label/$value").content == b"east"
    for missing in ("properties/nope", "properties/floor/rooms[7]", "properties/label/x"):
        assert get(alice, f"{thing}/{missing}", status=404)["code"] == 404
    assert get(alice, f"{thing}/name/part", status=404)["code"] == 404
    datastream = sta.datastream(world.node_a, sta.co2).pk
    assert get(alice, f"Datastreams({datastream})/unitOfMeasurement/symbol") == {"symbol": "ppm"}


def test_pages_newest_first_follow_the_time_with_a_cursor(alice, sta, world):
    from tests.sensorthings.conftest import write_samples

    write_samples(
        *[(world.node_a, sta.co2, MARCH.replace(hour=11, minute=m), 300.0 + m) for m in range(7)]
    )
    path = f"Datastreams({sta.datastream(world.node_a, sta.co2).pk})/Observations"
    params = {"$orderby": "phenomenonTime desc", "$top": "4", "$count": "true"}
    page = get(alice, path, params)
    times = [o["phenomenonTime"] for o in page["value"]]
    while "@iot.nextLink" in page:
        assert "$skiptoken=" in page["@iot.nextLink"]
        page = follow(alice, page["@iot.nextLink"])
        assert page["@iot.count"] == 9
        times += [o["phenomenonTime"] for o in page["value"]]
    assert times == sorted(times, reverse=True) and len(times) == len(set(times)) == 9
    oldest_first = get(alice, path, {"$orderby": "phenomenonTime", "$top": "2"})
    assert [o["result"] for o in oldest_first["value"]] == [400, 410]
    # option names in any case, as FROST accepts them
    assert (
        get(alice, path, {"$orderBy": "phenomenonTime desc", "$TOP": "1"})["value"][0]["result"]
        == 306
    )


def test_filters_on_related_entities_see_only_what_the_reader_sees(client_for, sta, world):
    anonymous = client_for(None)
    # the public node's value of 500 is from before its public period: not a match
    found = get(anonymous, "Things", {"$filter": "Datastreams/Observations/result eq 500"})
    assert found["value"] == []
    inside = get(anonymous, "Things", {"$filter": "Datastreams/Observations/result eq 510"})
    assert [t["@iot.id"] for t in inside["value"]] == [world.public_node.pk]


def test_observations_read_as_a_data_array(alice, sta, world):
    co2 = sta.datastream(world.node_a, sta.co2).pk
    body = get(
        alice,
        "Observations",
        {"$resultFormat": "dataArray", "$count": "true", "$top": "3"},
    )
    assert body["@iot.count"] >= 3 and "@iot.nextLink" in body
    assert "$resultFormat=dataArray" in body["@iot.nextLink"]
    first = body["value"][0]
    assert first["components"] == [
        "id",
        "phenomenonTime",
        "result",
        "resultTime",
        "resultQuality",
        "validTime",
        "parameters",
    ]
    assert first["Datastream@iot.navigationLink"] == f"{BASE}Datastreams({co2})"
    assert first["dataArray@iot.count"] == len(first["dataArray"]) == 2
    assert [r[2] for r in first["dataArray"]] == [400, 410]
    chosen = get(
        alice,
        f"Datastreams({co2})/Observations",
        {"$resultFormat": "dataArray", "$select": "result,phenomenonTime"},
    )["value"]
    assert chosen[0]["components"] == ["result", "phenomenonTime"]
    assert chosen[0]["dataArray"][0] == [400, "2026-03-01T10:00:00Z"]
    assert get(alice, "Things", {"$resultFormat": "dataArray"}, status=400)["code"] == 400
    assert get(alice, "Observations", {"$resultFormat": "csv"}, status=400)["code"] == 400


def test_a_null_character_anywhere_is_a_sensorthings_error(alice, sta):
    for url in (f"{ROOT}Things%00", f"{ROOT}Things?$filter=name%20eq%20'a%00'"):
        response = alice.get(url)
        assert response.status_code == 400
        assert response.json()["type"] == "error" and response.json()["code"] == 400


def test_a_public_thing_shows_strangers_no_device_id_and_no_node_metadata(client_for, sta, world):
    # A public installation publishes a node's values, not the node: the device id is in
    # MQTT topics, the metadata is the organization's. Through STA neither shows, to
    # anonymous readers or anybody: the name is the alias, else "Thing <id>"; the
    # properties are what was written through STA.
    node = world.public_node
    node.alias, node.metadata = "", {"serial": "SN-SECRET-1", "note": "key under the mat"}
    node.save()
    for reader in (client_for(None), client_for(world.charlie), client_for(world.alice)):
        thing = get(reader, f"Things({node.pk})")
        assert thing["name"] == f"Thing {node.pk}"
        assert thing["properties"] in ({}, None)
        everything = reader.get(ROOT + f"Things({node.pk})?$expand=Datastreams").content
        assert node.device_id.encode() not in everything and b"SN-SECRET" not in everything
        found = get(reader, "Things", {"$filter": "properties/serial eq 'SN-SECRET-1'"})
        assert found["value"] == []


def test_a_samples_datastreams_times_count_its_details_within_the_walls(
    client_for, alice, sta, world
):
    from datetime import UTC, datetime

    from sensorgrid.sensorthings.models import SampleDetails

    def at(text: str) -> datetime:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)

    mine = sta.datastream(world.node_a, sta.co2)
    SampleDetails.objects.create(
        node=world.node_a,
        quantity=sta.co2,
        ts=at("2026-03-01T10:00:00"),
        phenomenon_time_end=at("2026-03-01T11:00:00"),
        result_time=at("2026-03-01T10:01:00"),
    )
    # details of a sample that does not exist are no Observation
    SampleDetails.objects.create(
        node=world.node_a, quantity=sta.co2, ts=at("2026-03-02T00:00:00"),
        phenomenon_time_end=at("2026-03-05T00:00:00"), result_time=at("2026-03-05T00:00:00"),
    )  # fmt: skip
    body = get(alice, f"Datastreams({mine.pk})")
    assert body["phenomenonTime"] == "2026-03-01T10:00:00Z/2026-03-01T11:00:00Z"
    assert body["resultTime"] == "2026-03-01T10:01:00Z/2026-03-01T10:01:00Z"
    # the public Datastream: a resultTime from before the public period stays unseen
    public = sta.datastream(world.public_node, sta.co2)
    SampleDetails.objects.create(
        node=world.public_node, quantity=sta.co2, ts=at("2025-12-31T12:00:00"),
        phenomenon_time_end=at("2026-06-01T00:00:00"), result_time=at("2025-12-31T12:00:00"),
    )  # fmt: skip
    anonymous = client_for(None)
    seen = get(anonymous, f"Datastreams({public.pk})")
    assert seen["phenomenonTime"] == "2026-03-01T10:00:00Z/2026-03-01T10:00:00Z"
    assert seen["resultTime"] is None
    assert get(alice, f"Datastreams({public.pk})")["resultTime"] == (
        "2025-12-31T12:00:00Z/2025-12-31T12:00:00Z"
    )
