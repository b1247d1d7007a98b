"""FROST-Server's AdditionalTests, the behaviours its suites check beyond the OGC
abstract tests: Locations that are no geometry beside one that is, a generated
phenomenonTime, HistoricalLocations created by hand, deep paths whose chain must hold for
every method, and a deleted generated FeatureOfInterest that is generated anew."""

# The fixtures are imported by name (tests/sensorthings/conformance_client.py) and
# requested as arguments, which ruff sees as unused imports and redefinitions.
# ruff: noqa: F401, F811

from datetime import UTC, datetime, timedelta

from tests.sensorthings.conformance_client import UNIT, alice, demo, same_instant


def _stream(alice, thing: int) -> int:
    sensor = alice.create(
        "Sensors",
        {
            "name": "Test Thermometre",
            "description": "Test Sensor",
            "encodingType": "None",
            "metadata": "-",
        },
    )
    observed = alice.create(
        "ObservedProperties",
        {"name": "Temperature", "definition": "http://example.org", "description": "-"},
    )
    return alice.create(
        "Datastreams",
        {
            "name": "Ds 1",
            "description": "The datastream",
            "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
            "unitOfMeasurement": UNIT,
            "Thing": {"@iot.id": thing},
            "Sensor": {"@iot.id": sensor},
            "ObservedProperty": {"@iot.id": observed},
        },
    )


def test_a_deep_path_must_hold_as_a_chain_for_every_method(alice):
    location = alice.create(
        "Locations",
        {
            "name": "L",
            "description": "l",
            "encodingType": "application/geo+json",
            "location": {"type": "Point", "coordinates": [8, 50]},
        },
    )
    first = alice.create(
        "Things", {"name": "Thing 1", "description": "1", "Locations": [{"@iot.id": location}]}
    )
    second = alice.create(
        "Things", {"name": "Thing 2", "description": "2", "Locations": [{"@iot.id": location}]}
    )
    stream = _stream(alice, first)
    observation = alice.create(
        "Observations",
        {
            "phenomenonTime": "2015-03-01T02:00:00.000Z",
            "result": 1.0,
            "Datastream": {"@iot.id": stream},
        },
    )
    good = f"Things({first})/Datastreams({stream})/Observations"
    bad = f"Things({second})/Datastreams({stream})/Observations"
    assert alice.get(good).status == 200
    assert alice.get(bad).status == 404
    body = {"phenomenonTime": "2015-03-01T03:00:00.000Z", "result": 300}
    assert alice.post(good, body).status == 201
    assert alice.post(bad, body).status != 201
    assert (
        alice.put(
            f"{good}({observation})", {"phenomenonTime": "2015-03-01T02:00:00.000Z", "result": 301}
        ).status
        == 200
    )
    assert (
        alice.put(
            f"{bad}({observation})", {"phenomenonTime": "2015-03-01T02:00:00.000Z", "result": 302}
        ).status
        == 404
    )
    assert alice.patch(f"{good}({observation})", {"result": 303}).status == 200
    assert alice.patch(f"{bad}({observation})", {"result": 304}).status != 200
    assert alice.delete(f"{bad}({observation})").status == 404
    assert alice.get(f"{good}({observation})").body["result"] == 303
    assert alice.delete(f"{good}({observation})").status == 200
    assert alice.get(f"{good}({observation})").status == 404


def test_a_deleted_generated_feature_is_generated_anew(alice):
    location = alice.create(
        "Locations",
        {
            "name": "L",
            "description": "l",
            "encodingType": "application/geo+json",
            "location": {"type": "Point", "coordinates": [8, 50]},
        },
    )
    thing = alice.create(
        "Things", {"name": "Thing 1", "description": "1", "Locations": [{"@iot.id": location}]}
    )
    stream = _stream(alice, thing)
    first = alice.create(
        "Observations",
        {
            "phenomenonTime": "2015-03-01T02:00:00Z",
            "result": 1.0,
            "Datastream": {"@iot.id": stream},
        },
    )
    feature = alice.get(f"Observations({first})/FeatureOfInterest").body["@iot.id"]
    assert alice.delete(f"FeaturesOfInterest({feature})").status == 200
    second = alice.create(
        "Observations",
        {
            "phenomenonTime": "2015-03-01T03:00:00Z",
            "result": 2.0,
            "Datastream": {"@iot.id": stream},
        },
    )
    again = alice.get(f"Observations({second})/FeatureOfInterest")
    assert again.status == 200 and again.body["@iot.id"] != feature


def test_a_thing_with_a_text_location_and_a_geometry_gets_its_feature_from_the_geometry(alice):
    thing = alice.create(
        "Things",
        {
            "name": "Thing 1",
            "description": "The first thing.",
            "Locations": [
                {
                    "name": "Address",
                    "description": "The address.",
                    "encodingType": "text/plain",
                    "location": "",
                },
                {
                    "name": "Point",
                    "description": "Location.",
                    "encodingType": "application/geo+json",
                    "location": {"type": "Point", "coordinates": [8, 51]},
                },
                {
                    "name": "Directions",
                    "description": "How to find it.",
                    "encodingType": "text/plain",
                    "location": "",
                },
            ],
        },
    )
    assert len(alice.get(f"Things({thing})/Locations").value) == 3
    observation = alice.create(
        "Observations", {"result": 1.0, "Datastream": {"@iot.id": _stream(alice, thing)}}
    )
    created = alice.get(f"Observations({observation})", **{"$expand": "FeatureOfInterest"}).body
    assert created["FeatureOfInterest"]["feature"] == {"type": "Point", "coordinates": [8, 51]}
    # phenomenonTime generated (now) when the Observation has none
    moment = datetime.fromisoformat(created["phenomenonTime"].replace("Z", "+00:00"))
    assert abs(moment - datetime.now(UTC)) < timedelta(minutes=5)


def test_a_historical_location_made_by_hand_moves_the_thing_only_when_it_is_the_latest(alice):
    thing = alice.create("Things", {"name": "Thing 1", "description": "The first thing."})
    locations = [
        alice.create(
            "Locations",
            {
                "name": f"Location {i}",
                "description": "l",
                "encodingType": "application/vnd.geo+json",
                "location": {"type": "Point", "coordinates": [8, 50 + i]},
            },
        )
        for i in range(3)
    ]
    assert (
        alice.put(
            f"Things({thing})",
            {
                "name": "Thing 1",
                "description": "The first thing.",
                "Locations": [{"@iot.id": locations[0]}],
            },
        ).status
        == 200
    )
    history = alice.get(f"Things({thing})/HistoricalLocations").value
    assert len(history) == 1
    assert (
        alice.patch(
            f"HistoricalLocations({history[0]['@iot.id']})", {"time": "2016-01-01T06:00:00.000Z"}
        ).status
        == 200
    )
    alice.create(
        "HistoricalLocations",
        {
            "time": "2016-01-01T07:00:00.000Z",
            "Thing": {"@iot.id": thing},
            "Locations": [{"@iot.id": locations[1]}],
        },
    )
    assert [loc["@iot.id"] for loc in alice.get(f"Things({thing})/Locations").value] == [
        locations[1]
    ]
    alice.create(
        "HistoricalLocations",
        {
            "time": "2016-01-01T05:00:00.000Z",
            "Thing": {"@iot.id": thing},
            "Locations": [{"@iot.id": locations[2]}],
        },
    )
    assert [loc["@iot.id"] for loc in alice.get(f"Things({thing})/Locations").value] == [
        locations[1]
    ]
