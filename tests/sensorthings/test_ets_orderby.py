"""ets-sta10's Capability3Tests orders every entity set by each of its properties (only
unitOfMeasurement is skipped), alone, asc, desc and all together, and reads ``value``
from each answer: no property of the data model may be refused in ``$orderby``, not even
a geometry (``location``, ``feature``, ``observedArea``) or a JSON object."""

# ruff: noqa: F401, F811

import pytest

from tests.sensorthings.conformance_client import alice, demo

PROPERTIES = {
    "Things": ["name", "description", "properties"],
    "Locations": ["name", "description", "encodingType", "location", "properties"],
    "HistoricalLocations": ["time"],
    "Datastreams": ["name", "description", "observationType", "observedArea",
                    "phenomenonTime", "resultTime", "properties"],
    "Sensors": ["name", "description", "encodingType", "metadata", "properties"],
    "ObservedProperties": ["name", "definition", "description", "properties"],
    "Observations": ["phenomenonTime", "result", "resultTime", "resultQuality", "validTime",
                     "parameters"],
    "FeaturesOfInterest": ["name", "description", "encodingType", "feature", "properties"],
}  # fmt: skip


@pytest.mark.parametrize("entity_set", PROPERTIES)
def test_every_property_orders_a_collection(alice, entity_set):
    for prop in PROPERTIES[entity_set]:
        for order in (prop, f"{prop} asc", f"{prop} desc"):
            answer = alice.get(entity_set, **{"$orderby": order, "$top": "5"})
            assert answer.status == 200, (entity_set, order, answer.text[:300])
            assert isinstance(answer.body["value"], list)
    everything = ",".join(PROPERTIES[entity_set])
    assert alice.get(entity_set, **{"$orderby": everything}).status == 200


def test_locations_ordered_by_location_page_without_overlap(alice):
    for x in range(5):
        alice.create(
            "Locations",
            {
                "name": f"ordered {x}",
                "description": "d",
                "encodingType": "application/geo+json",
                "location": {"type": "Point", "coordinates": [x, 50]},
            },
        )
    seen = alice.all("Locations", **{"$orderby": "location desc", "$top": "2"})
    ids = [e["@iot.id"] for e in seen]
    assert (
        len(ids)
        == len(set(ids))
        == alice.get("Locations", **{"$count": "true", "$top": "0"}).body["@iot.count"]
    )
