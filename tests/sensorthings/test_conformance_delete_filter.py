"""FROST-Server's DeleteFilterTests: DELETE on a collection removes what its $filter
selects (and only what the writer may change); without a $filter it is refused."""

# ruff: noqa: F401, F811  (pytest fixtures imported by name)
from tests.sensorthings.conformance_client import alice, bob, charlie, demo
from tests.sensorthings.test_conformance_additional import _stream
from tests.sensorthings.test_conformance_query import world


def results(client, stream) -> list:
    page = client.get(f"Datastreams({stream})/Observations", **{"$orderby": "result"})
    return [o["result"] for o in page.value]


def test_delete_of_a_filtered_collection_removes_what_the_filter_matches(alice, bob, charlie):
    place = {
        "name": "L",
        "description": "l",
        "encodingType": "application/vnd.geo+json",
        "location": {"type": "Point", "coordinates": [8, 51]},
    }
    thing = alice.create("Things", {"name": "Thing 1", "description": "1", "Locations": [place]})
    stream = _stream(alice, thing)
    for hour in (6, 7, 8, 9):
        alice.create(
            "Observations",
            {
                "phenomenonTime": f"2016-01-01T0{hour}:00:00Z",
                "resultTime": f"2016-01-01T0{hour}:00:00Z",
                "result": hour,
                "Datastream": {"@iot.id": stream},
            },
        )
    observations = f"Datastreams({stream})/Observations"
    everything = f"{observations}?$filter=result%20gt%200"
    # The inspector and the other organization delete nothing (a foreign Datastream is
    # a missing one).
    assert bob.delete(everything).status in (200, 403)
    assert charlie.delete(everything).status == 404
    assert results(alice, stream) == [6, 7, 8, 9]
    answer = alice.delete(f"{observations}?$filter=resultTime%20lt%202016-01-01T07:00:00Z")
    assert answer.status == 200, answer.text[:300]
    assert results(alice, stream) == [7, 8, 9]
    answer = alice.delete(f"{observations}?$filter=2016-01-01T08:00:00Z%20lt%20phenomenonTime")
    assert answer.status == 200, answer.text[:300]
    assert results(alice, stream) == [7, 8]
    # No $filter: nothing is deleted by accident.
    assert alice.delete(observations).status == 400
    assert results(alice, stream) == [7, 8]
