"""Writes through the SensorThings API, called as the views call them (sensorthings.write).

Deep insert, links by id within the organization walls, mandatory properties, one
transaction per request, HistoricalLocations and FeaturesOfInterest generated as the
spec says, samples through SensorGrid's ingest path, PATCH/PUT/JSON-PATCH, $ref.
"""

from datetime import UTC, datetime

import pytest

from sensorgrid.ingest.events import Committed
from sensorgrid.inventory.models import Node
from sensorgrid.sensorthings import ids
from sensorgrid.sensorthings import models as m
from sensorgrid.sensorthings.errors import StaError
from sensorgrid.sensorthings.write import apply_json_patch, create, link, unlink, update
from sensorgrid.telemetry.models import Latest, Resolution, Rollup, Sample

POINT = {"type": "Point", "coordinates": [8.4, 49.0]}
UOM = {"name": "degree Celsius", "symbol": "°C", "definition": "ucum:Cel"}
OM = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"
T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def thing_body(**extra):
    return {
        "name": "Weather station",
        "description": "On the roof",
        "properties": {"owner": "physics"},
        "Locations": [
            {
                "name": "Roof",
                "description": "Roof of building 4",
                "encodingType": "application/vnd.geo+json",
                "location": POINT,
            }
        ],
        "Datastreams": [
            {
                "name": "Air temperature",
                "description": "2 m above the roof",
                "unitOfMeasurement": UOM,
                "observationType": OM,
                "Sensor": {
                    "name": "PT100",
                    "description": "Resistance thermometer",
                    "encodingType": "application/pdf",
                    "metadata": "https://example.org/pt100.pdf",
                },
                "ObservedProperty": {
                    "name": "Air temperature",
                    "definition": "https://example.org/air-temperature",
                    "description": "Temperature of the air",
                },
                "Observations": [
                    {"phenomenonTime": "2026-03-01T10:00:00Z", "result": 21},
                    {"phenomenonTime": "2026-03-01T10:05:00Z", "result": 21.5},
                ],
            }
        ],
        **extra,
    }


def counts():
    return (
        Node.objects.count(),
        m.Location.objects.count(),
        m.Datastream.objects.count(),
        m.Sensor.objects.count(),
        m.ObservedProperty.objects.count(),
        m.Observation.objects.count(),
        m.HistoricalLocation.objects.count(),
        m.FeatureOfInterest.objects.count(),
    )


def test_deep_insert_of_a_thing_creates_everything_in_the_writers_organization(world):
    node = create("Things", thing_body(), user=world.alice, organization=world.org_a)

    assert node.organization == world.org_a
    assert node.alias == "Weather station" and node.device_id.startswith("sta-")
    # properties are the Thing's own, never the node's metadata (members only)
    assert m.Thing.objects.get(node=node).properties == {"owner": "physics"}
    assert node.metadata == {}
    assert m.Thing.objects.get(node=node).description == "On the roof"
    [location] = m.Location.objects.filter(things=node)
    assert location.organization == world.org_a
    assert (location.min_lon, location.min_lat, location.max_lon, location.max_lat) == (
        8.4,
        49.0,
        8.4,
        49.0,
    )
    [historical] = m.HistoricalLocation.objects.filter(node=node)
    assert list(historical.locations.all()) == [location]
    [datastream] = m.Datastream.objects.filter(node=node)
    assert datastream.store == "observations"  # its ObservedProperty is no registered quantity
    assert datastream.sensor.organization == world.org_a
    results = list(
        datastream.observations.order_by("phenomenon_time").values_list("result", flat=True)
    )
    assert results == [21, 21.5] and isinstance(results[0], int)
    # One FeatureOfInterest, generated from the Thing's Location, for both Observations.
    [feature] = m.FeatureOfInterest.objects.filter(location=location)
    assert feature.feature == POINT
    assert set(datastream.observations.values_list("feature_of_interest", flat=True)) == {
        feature.pk
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda b: b.pop("name"), "'name'"),
        (lambda b: b["Datastreams"][0].pop("Sensor"), "'Sensor'"),
        (lambda b: b["Datastreams"][0].pop("unitOfMeasurement"), "'unitOfMeasurement'"),
        (lambda b: b["Datastreams"][0]["ObservedProperty"].pop("definition"), "'definition'"),
        (
            lambda b: b["Locations"][0].update(location={"type": "Point", "coordinates": [1]}),
            "location",
        ),
        (lambda b: b["Locations"][0].update(encodingType=None), "encodingType"),
        (lambda b: b.update(properties=[1, 2]), "properties"),
        (lambda b: b.update(colour="red"), "'colour'"),
        (lambda b: b["Datastreams"][0]["Observations"][1].pop("result"), "'result'"),
        (
            lambda b: b["Datastreams"][0]["Observations"][1].update(phenomenonTime="yesterday"),
            "phenomenonTime",
        ),
    ],
)
def test_an_invalid_deep_insert_is_refused_whole_naming_the_property(world, change, message):
    before = counts()
    body = thing_body()
    change(body)
    with pytest.raises(StaError) as refused:
        create("Things", body, user=world.alice, organization=world.org_a)
    assert refused.value.status == 400
    assert message in refused.value.message
    assert counts() == before


def test_links_reach_only_the_writers_organization_and_the_shared_catalogue(world, sta):
    foreign = sta_sensor(world.org_b)
    body = datastream_body(world.node_a.pk, {"@iot.id": foreign.pk}, sky_property(world).pk)
    with pytest.raises(StaError) as foreign_refusal:
        create("Datastreams", body, user=world.alice, organization=world.org_a)
    body["Sensor"] = {"@iot.id": 999_999}
    with pytest.raises(StaError) as missing_refusal:
        create("Datastreams", body, user=world.alice, organization=world.org_a)
    assert foreign_refusal.value.status == missing_refusal.value.status == 400
    assert foreign_refusal.value.message == f"No Sensor with id {foreign.pk}."
    # A catalogue mirror (organization empty) may be linked by anyone who writes.
    shared = m.ObservedProperty.objects.get(quantity=sta_quantity("humidity"))
    body["Sensor"] = {"@iot.id": sta_sensor(world.org_a).pk}
    body["ObservedProperty"] = {"@iot.id": shared.pk}
    made = create("Datastreams", body, user=world.alice, organization=world.org_a)
    assert made.observed_property == shared


def test_only_owners_write(world):
    for user in (world.bob, world.charlie, world.dave):
        with pytest.raises(StaError) as refused:
            create("Things", {"name": "x", "description": "y"}, user=user, organization=world.org_a)
        assert refused.value.status == 403


def test_post_to_a_navigation_path_links_the_parent(world, sta):
    datastream = sta.text_stream
    location = create(
        "Locations",
        {
            "name": "Lab",
            "description": "",
            "encodingType": "application/geo+json",
            "location": POINT,
        },
        user=world.alice,
        organization=world.org_a,
        parent=("Things", world.node_a, "Locations"),
    )
    assert location in world.node_a.sta_locations.all()
    row = create(
        "Observations",
        {"result": "sunny", "phenomenonTime": "2026-03-02T00:00:00Z"},
        user=world.alice,
        organization=world.org_a,
        parent=("Datastreams", datastream, "Observations"),
    )
    observation = m.Observation.objects.get(pk=ids.decode(row.pk)[1])
    assert observation.datastream == datastream and observation.result == "sunny"
    assert observation.feature_of_interest.location == location


def test_every_json_result_round_trips_in_the_observations_store(world, sta):
    for result in [7, 7.25, "x", False, None, {"a": {"b": [1, None]}}, [1, "2", 3.5]]:
        row = create(
            "Observations",
            {"result": result, "Datastream": {"@iot.id": sta.text_stream.pk}},
            user=world.alice,
            organization=world.org_a,
        )
        stored = m.Observation.objects.get(pk=ids.decode(row.pk)[1]).result
        assert stored == result and type(stored) is type(result)


def test_an_observation_needs_a_feature_or_a_location(world, sta):
    node = create(
        "Things", {"name": "Bare", "description": ""}, user=world.alice, organization=world.org_a
    )
    datastream = create(
        "Datastreams",
        datastream_body(
            node.pk, {"@iot.id": sta.text_stream.sensor_id}, sta.text_stream.observed_property_id
        ),
        user=world.alice,
        organization=world.org_a,
    )
    with pytest.raises(StaError) as refused:
        create(
            "Observations",
            {"result": 1, "Datastream": {"@iot.id": datastream.pk}},
            user=world.alice,
            organization=world.org_a,
        )
    assert refused.value.status == 400 and "Location" in refused.value.message
    row = create(
        "Observations",
        {
            "result": 1,
            "Datastream": {"@iot.id": datastream.pk},
            "FeatureOfInterest": {
                "name": "Pond",
                "description": "",
                "encodingType": "application/geo+json",
                "feature": {"type": "Polygon", "coordinates": [[[0, 0], [2, 0], [2, 1], [0, 0]]]},
            },
        },
        user=world.alice,
        organization=world.org_a,
    )
    feature = row.feature_of_interest
    assert (feature.min_lon, feature.min_lat, feature.max_lon, feature.max_lat) == (0, 0, 2, 1)


# -- the samples store ---------------------------------------------------------------------


def numeric_stream(world, quantity_key="co2"):
    """A new Thing with a Location and a Datastream of a registered quantity."""
    node = create(
        "Things",
        {
            "name": "Numeric",
            "description": "",
            "Locations": [
                {
                    "name": "Here",
                    "description": "",
                    "encodingType": "application/geo+json",
                    "location": POINT,
                }
            ],
        },
        user=world.alice,
        organization=world.org_a,
    )
    prop = m.ObservedProperty.objects.get(quantity=sta_quantity(quantity_key))
    datastream = create(
        "Datastreams",
        datastream_body(node.pk, {"@iot.id": sta_sensor(world.org_a).pk}, prop.pk),
        user=world.alice,
        organization=world.org_a,
    )
    assert datastream.store == "samples"
    return datastream


def post_value(world, datastream, result, at="2026-03-02T12:00:00Z", **extra):
    return create(
        "Observations",
        {"result": result, "phenomenonTime": at, "Datastream": {"@iot.id": datastream.pk}, **extra},
        user=world.alice,
        organization=world.org_a,
    )


def test_a_number_for_a_registered_quantity_is_a_sample_seen_by_rollups_and_latest(
    world, sta, listen, django_capture_on_commit_callbacks
):
    seen = []
    listen(Committed, lambda event: seen.append(event))
    datastream = numeric_stream(world)
    node, quantity = datastream.node, datastream.quantity
    with django_capture_on_commit_callbacks(execute=True):
        row = post_value(
            world,
            datastream,
            612,
            resultTime="2026-03-02T12:00:01Z",
            parameters={"calibrated": True},
        )
    assert Sample.objects.get(node=node, quantity=quantity).value == 612
    assert Latest.objects.get(node=node, quantity=quantity).value == 612
    hour = Rollup.objects.get(node=node, quantity=quantity, resolution=Resolution.HOUR)
    assert (hour.count, hour.sum) == (1, 612)
    assert [row.node_id for event in seen for row in event.rows] == [node.pk]  # live, alerts…
    details = m.SampleDetails.objects.get(node=node, quantity=quantity, ts=T0)
    assert details.parameters == {"calibrated": True}
    assert details.result_time == datetime(2026, 3, 2, 12, 0, 1, tzinfo=UTC)
    assert details.feature_of_interest.location in node.sta_locations.all()
    assert row.pk == ids.encode_sample(datastream.pk, T0)


def test_a_numeric_datastream_refuses_what_is_no_number_or_already_there(world, sta):
    datastream = numeric_stream(world)
    post_value(world, datastream, 600)
    with pytest.raises(StaError) as text:
        post_value(world, datastream, "high", at="2026-03-02T12:01:00Z")
    assert text.value.status == 400
    assert "Carbon dioxide" in text.value.message and "number" in text.value.message
    with pytest.raises(StaError) as twice:
        post_value(world, datastream, 601)
    assert twice.value.status == 409
    with pytest.raises(StaError) as implausible:
        post_value(world, datastream, -5, at="2026-03-02T12:02:00Z")
    assert implausible.value.status == 400 and "out-of-range" in implausible.value.message
    assert Sample.objects.filter(node=datastream.node).count() == 1
    assert not m.SampleDetails.objects.filter(ts__gt=T0).exists()


def test_deleting_a_sample_keeps_rollups_and_latest_exact(world, sta):
    from sensorgrid.sensorthings.write import delete

    datastream = numeric_stream(world)
    first = post_value(world, datastream, 500, at="2026-03-02T12:00:00Z")
    last = post_value(world, datastream, 700, at="2026-03-02T12:30:00Z")
    delete("Observations", last, user=world.alice)
    node, quantity = datastream.node, datastream.quantity
    hour = Rollup.objects.get(node=node, quantity=quantity, resolution=Resolution.HOUR)
    assert (hour.count, hour.sum, hour.min, hour.max) == (1, 500, 500, 500)
    assert Latest.objects.get(node=node, quantity=quantity).value == 500
    delete("Observations", first, user=world.alice)
    assert not Rollup.objects.filter(node=node, quantity=quantity).exists()
    assert not Latest.objects.filter(node=node, quantity=quantity).exists()
    assert not m.SampleDetails.objects.filter(node=node).exists()


def test_patching_a_sample_moves_its_value_in_the_rollups(world, sta):
    datastream = numeric_stream(world)
    row = post_value(world, datastream, 500)
    changed = update("Observations", row, {"result": 550}, user=world.alice)
    assert changed.pk == row.pk
    hour = Rollup.objects.get(
        node=datastream.node, quantity=datastream.quantity, resolution=Resolution.HOUR
    )
    assert (hour.count, hour.sum, hour.max) == (1, 550, 550)
    moved = update(
        "Observations", row, {"phenomenonTime": "2026-03-02T13:00:00Z"}, user=world.alice
    )
    assert moved.pk == ids.encode_sample(datastream.pk, datetime(2026, 3, 2, 13, tzinfo=UTC))
    assert list(Sample.objects.filter(node=datastream.node).values_list("value", flat=True)) == [
        550
    ]


# -- update --------------------------------------------------------------------------------


def test_patch_changes_what_it_names_and_put_resets_the_rest(world):
    node = create("Things", thing_body(), user=world.alice, organization=world.org_a)
    update("Things", node, {"name": "Renamed"}, user=world.alice)
    node.refresh_from_db()
    assert node.alias == "Renamed"
    assert m.Thing.objects.get(node=node).properties == {"owner": "physics"}
    update("Things", node, {"name": "Put", "description": "Again"}, user=world.alice, replace=True)
    node.refresh_from_db()
    row = m.Thing.objects.get(node=node)
    assert row.properties is None and row.description == "Again"
    with pytest.raises(StaError) as missing:
        update("Things", node, {"description": "no name"}, user=world.alice, replace=True)
    assert missing.value.status == 400 and "'name'" in missing.value.message
    with pytest.raises(StaError) as other_id:
        update("Things", node, {"@iot.id": node.pk + 1, "name": "x"}, user=world.alice)
    assert other_id.value.status == 400
    with pytest.raises(StaError) as inline:
        update("Things", node, {"Locations": [{"name": "new"}]}, user=world.alice)
    assert inline.value.status == 400
    with pytest.raises(StaError) as inspector:
        update("Things", node, {"name": "bob was here"}, user=world.bob)
    assert inspector.value.status == 403


def test_new_locations_of_a_thing_make_a_historical_location(world):
    node = create("Things", thing_body(), user=world.alice, organization=world.org_a)
    other = create(
        "Locations",
        {
            "name": "Cellar",
            "description": "",
            "encodingType": "application/geo+json",
            "location": POINT,
        },
        user=world.alice,
        organization=world.org_a,
    )
    update("Things", node, {"Locations": [{"@iot.id": other.pk}]}, user=world.alice)
    assert list(node.sta_locations.all()) == [other]
    newest = m.HistoricalLocation.objects.filter(node=node).order_by("-pk").first()
    assert list(newest.locations.all()) == [other]
    assert m.HistoricalLocation.objects.filter(node=node).count() == 2
    unlink("Things", node, "Locations", other.pk, user=world.alice)
    assert not node.sta_locations.exists()
    link("Things", node, "Locations", {"@iot.id": other.pk}, user=world.alice)
    assert list(node.sta_locations.all()) == [other]
    assert m.HistoricalLocation.objects.filter(node=node).count() == 4


def test_a_datastreams_sensor_is_replaced_by_ref(world, sta):
    sensor = sta_sensor(world.org_a)
    link("Datastreams", sta.text_stream, "Sensor", {"@iot.id": sensor.pk}, user=world.alice)
    sta.text_stream.refresh_from_db()
    assert sta.text_stream.sensor == sensor
    with pytest.raises(StaError) as foreign:
        link(
            "Datastreams",
            sta.text_stream,
            "Sensor",
            {"@iot.id": sta_sensor(world.org_b).pk},
            user=world.alice,
        )
    assert foreign.value.status == 400


def test_json_patch_edits_properties(world):
    node = create("Things", thing_body(), user=world.alice, organization=world.org_a)
    apply_json_patch(
        "Things",
        node,
        [
            {"op": "add", "path": "/properties/floor", "value": 4},
            {"op": "replace", "path": "/description", "value": "Patched"},
        ],
        user=world.alice,
    )
    node.refresh_from_db()
    assert m.Thing.objects.get(node=node).properties == {"owner": "physics", "floor": 4}
    assert m.Thing.objects.get(node=node).description == "Patched"
    with pytest.raises(StaError) as broken:
        apply_json_patch("Things", node, [{"op": "remove", "path": "/nothing"}], user=world.alice)
    assert broken.value.status == 400


# -- helpers ---------------------------------------------------------------------------------


def sta_quantity(key):
    from sensorgrid.inventory.models import Quantity

    return Quantity.objects.get(key=key)


def sta_sensor(organization):
    return m.Sensor.objects.create(
        organization=organization, name="Probe", encoding_type="text/plain", metadata="probe"
    )


def sky_property(world):
    return m.ObservedProperty.objects.create(organization=world.org_a, name="Sky", definition="sky")


def datastream_body(thing_id, sensor, observed_property_id):
    return {
        "name": "Stream",
        "description": "",
        "unitOfMeasurement": UOM,
        "observationType": OM,
        "Thing": {"@iot.id": thing_id},
        "Sensor": sensor,
        "ObservedProperty": {"@iot.id": observed_property_id},
    }


def test_a_second_datastream_of_a_series_keeps_its_observations_apart(world, sta):
    # node_a already has the samples Datastream of co2 (its model measures it).
    prop = m.ObservedProperty.objects.get(quantity=sta.co2)
    body = datastream_body(world.node_a.pk, {"@iot.id": sta_sensor(world.org_a).pk}, prop.pk)
    second = create("Datastreams", body, user=world.alice, organization=world.org_a)
    assert second.store == "observations" and second.quantity is None
    row = create(
        "Observations",
        {"result": "calibration run", "Datastream": {"@iot.id": second.pk}},
        user=world.alice,
        organization=world.org_a,
    )
    assert m.Observation.objects.get(pk=ids.decode(row.pk)[1]).result == "calibration run"


def test_values_no_database_holds_are_refused_with_400(world, sta):
    datastream = numeric_stream(world)
    for result, at in [(10**400, "2026-03-02T12:00:00Z"), (1, "0001-01-01T00:00:00+01:00")]:
        with pytest.raises(StaError) as refused:
            post_value(world, datastream, result, at=at)
        assert refused.value.status == 400
    with pytest.raises(StaError) as nul:
        create("Things", {"name": "a\x00b"}, user=world.alice, organization=world.org_a)
    assert nul.value.status == 400 and "name" in nul.value.message


def test_the_same_locations_again_make_no_historical_location(world, sta):
    node = create("Things", thing_body(), user=world.alice, organization=world.org_a)
    [location] = node.sta_locations.all()
    update(
        "Things", node, {"Locations": [{"@iot.id": location.pk}]}, user=world.alice, replace=False
    )
    assert m.HistoricalLocation.objects.filter(node=node).count() == 1
    # node_a stands in its site (installation): a PUT naming that Location keeps it,
    # another site's Location is refused, and leaving it out does not remove it.
    site_location = m.Location.objects.get(site=world.site_a)
    update("Things", world.node_a, {"Locations": [{"@iot.id": site_location.pk}]}, user=world.alice)
    other_site = m.Location.objects.get(site=world.public_site)
    with pytest.raises(StaError) as refused:
        update(
            "Things", world.node_a, {"Locations": [{"@iot.id": other_site.pk}]}, user=world.alice
        )
    assert refused.value.status == 400
    update("Things", world.node_a, {"Locations": [{"@iot.id": location.pk}]}, user=world.alice)
    assert set(world.node_a.sta_locations.all()) == {site_location, location}


def test_observations_linked_by_id_move_to_the_datastream_or_feature(world, sta):
    node = create("Things", thing_body(), user=world.alice, organization=world.org_a)
    [datastream] = m.Datastream.objects.filter(node=node)
    row = create(
        "Observations",
        {"result": "moved", "Datastream": {"@iot.id": sta.text_stream.pk}},
        user=world.alice,
        organization=world.org_a,
    )
    update("Datastreams", datastream, {"Observations": [{"@iot.id": row.pk}]}, user=world.alice)
    moved = m.Observation.objects.get(pk=ids.decode(row.pk)[1])
    assert moved.datastream == datastream
    feature = moved.feature_of_interest
    # frost-sta-client's PUT sends the Observations it holds: unchanged links change nothing.
    new_id = ids.encode_observation(datastream.pk, moved.pk)
    update("FeaturesOfInterest", feature, {"Observations": [{"@iot.id": new_id}]}, user=world.alice)
    assert m.Observation.objects.get(pk=moved.pk).feature_of_interest == feature


def test_a_location_of_another_encoding_stands_beside_the_geojson_one(world, sta):
    body = thing_body()
    body["Locations"] = [
        {"name": "Address", "encodingType": "text/plain", "location": "Main street 4"},
        body["Locations"][0],
        {"name": "Directions", "encodingType": "text/html", "location": "<p>2nd floor</p>"},
    ]
    node = create("Things", body, user=world.alice, organization=world.org_a)
    assert node.sta_locations.count() == 3
    address = m.Location.objects.get(name="Address")
    assert address.location == "Main street 4" and address.min_lon is None
    [datastream] = m.Datastream.objects.filter(node=node)
    [feature] = {o.feature_of_interest for o in datastream.observations.all()}
    assert feature.feature == POINT and feature.location.name == "Roof"


def test_a_historical_location_posted_as_the_newest_moves_the_thing(world):
    node = create("Things", thing_body(), user=world.alice, organization=world.org_a)
    [first] = node.sta_locations.all()
    [auto] = m.HistoricalLocation.objects.filter(node=node)
    update("HistoricalLocations", auto, {"time": "2016-01-01T06:00:00Z"}, user=world.alice)
    second = create(
        "Locations",
        {"name": "Cellar", "encodingType": "application/geo+json", "location": POINT},
        user=world.alice,
        organization=world.org_a,
    )
    for time in ("2016-01-01T07:00:00Z", "2016-01-01T05:00:00Z"):
        create(
            "HistoricalLocations",
            {"time": time, "Thing": {"@iot.id": node.pk}, "Locations": [{"@iot.id": second.pk}]},
            user=world.alice,
            organization=world.org_a,
        )
        # 07:00 is the newest: the Thing moves; 05:00 is history only.
        assert list(node.sta_locations.all()) == [second]
    assert first not in node.sta_locations.all()
