"""FROST-Server's AdditionalTests, the behaviours its suites check beyond the OGC
abstract tests: deep paths whose chain must hold for every method, and a deleted
generated FeatureOfInterest that is generated anew."""

# The fixtures are imported by name (tests/sensorthings/conformance_client.py) and
# requested as arguments, which ruff sees as unused imports and redefinitions.
# ruff: noqa: F401, F811

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
