"""The real frost-sta-client (FROST-Server's Python client, PyPI) against a running
`sensorgrid serve` with the demo data (issue 25, "Done when"): it creates a Thing with
Locations and Datastreams, adds Observations and pages through them by @iot.nextLink,
signed in with Basic auth as frost-sta-client does it."""

from datetime import UTC, datetime, timedelta

import frost_sta_client as fsc
import geojson
import pytest
import requests

from tests.dashboard.liveserver import PASSWORD, SensorGridServer


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    running = SensorGridServer(tmp_path_factory.mktemp("sta-frost")).start()
    try:
        yield running
    finally:
        running.stop()


def service(server, user: str = "alice") -> fsc.SensorThingsService:
    return fsc.SensorThingsService(
        f"{server.base}/sta/v1.1", auth_handler=fsc.AuthHandler(username=user, password=PASSWORD)
    )


def test_frost_client_creates_a_thing_adds_observations_and_pages_through_them(server):
    sta = service(server)
    thing = fsc.Thing(
        name="FROST client station",
        description="made by frost-sta-client",
        properties={"made_by": "frost-sta-client", "floor": 2},
    )
    thing.locations = [
        fsc.Location(
            name="Roof",
            description="the roof of the school",
            encoding_type="application/geo+json",
            location=geojson.Point((11.5755, 48.1340)),
        ),
        fsc.Location(
            name="Yard",
            description="the schoolyard",
            encoding_type="application/vnd.geo+json",
            location=geojson.Point((11.5760, 48.1345)),
        ),
    ]
    thing.datastreams = [
        fsc.Datastream(
            name=f"{quantity} on the roof",
            description=f"{quantity} measured on the roof",
            observation_type="http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
            unit_of_measurement=fsc.UnitOfMeasurement(name=unit, symbol=symbol, definition=unit),
            sensor=fsc.Sensor(
                name=f"{quantity} sensor",
                description="a sensor",
                encoding_type="application/pdf",
                metadata="https://example.org/datasheet.pdf",
            ),
            observed_property=fsc.ObservedProperty(
                name=f"Roof {quantity}",
                definition=f"https://example.org/{quantity}",
                description=quantity,
            ),
        )
        for quantity, unit, symbol in (
            ("wind speed", "metre per second", "m/s"),
            ("rain", "millimetre", "mm"),
        )
    ]
    sta.create(thing)
    assert isinstance(thing.id, int)

    found = sta.things().find(thing.id)
    assert found.name == "FROST client station"
    assert found.properties == {"made_by": "frost-sta-client", "floor": 2}
    assert sorted(loc.name for loc in found.get_locations().query().list()) == ["Roof", "Yard"]
    streams = {ds.name: ds for ds in found.get_datastreams().query().list()}
    assert set(streams) == {"wind speed on the roof", "rain on the roof"}
    wind = streams["wind speed on the roof"]
    assert wind.unit_of_measurement.symbol == "m/s"

    start = datetime(2026, 2, 1, tzinfo=UTC)
    for i in range(25):
        observation = fsc.Observation(
            result=i * 0.5 if i % 2 else i,
            phenomenon_time=start + timedelta(minutes=i),
            datastream=fsc.Datastream(id=wind.id),
        )
        sta.create(observation)
        assert isinstance(observation.id, int)

    page = wind.get_observations().query().top(10).orderby("phenomenonTime", "asc").count().list()
    assert page.count == 25
    assert len(page.entities) == 10
    assert page.next_link and page.next_link.startswith(server.base)
    results = [o.result for o in page]  # iterating follows @iot.nextLink
    assert results == [i * 0.5 if i % 2 else i for i in range(25)]
    assert all(type(r) is int for r in results[::2])

    filtered = (
        wind.get_observations().query().filter("result ge 10").orderby("result", "desc").list()
    )
    assert [o.result for o in filtered][:3] == [24, 22, 20]

    # an update and a delete the client's way
    found.description = "updated by frost-sta-client"
    sta.update(found)
    assert sta.things().find(thing.id).description == "updated by frost-sta-client"
    sta.patch(found, [{"op": "replace", "path": "/name", "value": "FROST station"}])
    assert sta.things().find(thing.id).name == "FROST station"
    sta.delete(found)
    with pytest.raises(requests.HTTPError) as missing:
        sta.things().find(thing.id)
    assert missing.value.response.status_code == 404


def test_frost_client_as_the_other_organization_and_with_a_wrong_password(server):
    mine = service(server, "alice")
    sensor = fsc.Sensor(name="alice's", description="d", encoding_type="text/plain", metadata="m")
    mine.create(sensor)
    with pytest.raises(requests.HTTPError) as hidden:
        service(server, "charlie").sensors().find(sensor.id)
    assert hidden.value.response.status_code == 404
    with pytest.raises(requests.HTTPError) as refused:
        service(server, "bob").create(
            fsc.Sensor(name="b", description="d", encoding_type="text/plain", metadata="m")
        )
    assert refused.value.response.status_code == 403
    wrong = fsc.SensorThingsService(
        f"{server.base}/sta/v1.1", auth_handler=fsc.AuthHandler(username="alice", password="wrong")
    )
    with pytest.raises(requests.HTTPError) as unauthorized:
        wrong.things().query().list()
    assert unauthorized.value.response.status_code == 401


def test_frost_client_queries_expands_data_arrays_and_iterates(server):
    """The client's other ways in (its README): $expand into nested entities, $select,
    $filter with functions and lambdas, Observations created as a DataArray
    (CreateObservations), and iteration that follows @iot.nextLink page by page."""
    from frost_sta_client.model.ext.data_array_document import DataArrayDocument
    from frost_sta_client.model.ext.data_array_value import DataArrayValue

    sta = service(server)
    thing = fsc.Thing(name="Client query station", description="expand and filter")
    thing.locations = [
        fsc.Location(
            name="Pier",
            description="the pier",
            encoding_type="application/geo+json",
            location=geojson.Point((8.0, 51.0)),
        )
    ]
    thing.datastreams = [
        fsc.Datastream(
            name="Pier water level",
            description="water level",
            observation_type="http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
            unit_of_measurement=fsc.UnitOfMeasurement(name="metre", symbol="m", definition="m"),
            sensor=fsc.Sensor(
                name="Gauge", description="g", encoding_type="text/plain", metadata="m"
            ),
            observed_property=fsc.ObservedProperty(
                name="Pier water level", definition="https://example.org/level", description="l"
            ),
        )
    ]
    sta.create(thing)
    stream = sta.things().find(thing.id).get_datastreams().query().list().entities[0]

    # 30 Observations in one CreateObservations request, the DataArray way of the README
    dav = DataArrayValue()
    dav.datastream = fsc.Datastream(id=stream.id)
    dav.components = {DataArrayValue.Property.PHENOMENON_TIME, DataArrayValue.Property.RESULT}
    start = datetime(2026, 1, 5, tzinfo=UTC)
    for i in range(30):
        dav.add_observation(
            fsc.Observation(
                phenomenon_time=(start + timedelta(minutes=i)).isoformat(),
                result=i,
                datastream=fsc.Datastream(id=stream.id),
            )
        )
    document = DataArrayDocument()
    document.add_data_array_value(dav)
    created = sta.observations().create(document)
    assert len(created) == 30 and all(o.self_link.startswith(server.base) for o in created)

    # paging: the EntityList iterator follows @iot.nextLink; each page is 7 long
    pages = stream.get_observations().query().top(7).orderby("phenomenonTime", "asc").list()
    assert len(pages.entities) == 7 and pages.next_link
    assert [o.result for o in pages] == list(range(30))

    # $filter with functions and a lambda, $select, $count
    found = (
        sta.things()
        .query()
        .filter(
            "startswith(name, 'Client query') and "
            "Datastreams/any(d: d/ObservedProperty/name eq 'Pier water level')"
        )
        .select("name", "id")
        .count()
        .list()
    )
    assert [t.name for t in found] == ["Client query station"] and found.count == 1
    late = (
        stream.get_observations()
        .query()
        .filter("phenomenonTime ge 2026-01-05T00:20:00Z and result mod 2 eq 0")
        .list()
    )
    assert sorted(o.result for o in late) == [20, 22, 24, 26, 28]

    # $expand into nested entities, with the nested options the client passes through
    expanded = (
        sta.things()
        .query()
        .filter(f"id eq {thing.id}")
        .expand(
            "Locations,Datastreams($select=name,id;"
            "$expand=Observations($orderby=phenomenonTime desc;$top=2))"
        )
        .list()
        .entities[0]
    )
    assert [loc.name for loc in expanded.locations] == ["Pier"]
    (ds,) = expanded.datastreams
    assert ds.name == "Pier water level"
    # the expanded page; iterating it would follow Observations@iot.nextLink to the rest
    assert [o.result for o in ds.observations.entities] == [29, 28]
    assert ds.observations.next_link and [o.result for o in ds.observations] == list(
        range(29, -1, -1)
    )

    # the Datastream's time spans follow its Observations; observedArea its features
    times = sta.datastreams().find(stream.id)
    assert str(times.phenomenon_time).startswith("2026-01-05T00:00:00")
    assert requests.get(
        f"{server.base}/sta/v1.1/Datastreams({stream.id})/observedArea",
        auth=("alice", PASSWORD),
        timeout=10,
    ).json() == {"observedArea": {"type": "Point", "coordinates": [8.0, 51.0]}}
    sta.delete(expanded)
