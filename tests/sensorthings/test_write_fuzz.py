"""Any JSON a client sends is stored or refused with a 4xx StaError, never another error
(which the view would answer with a 500)."""

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sensorgrid.sensorthings.errors import StaError
from sensorgrid.sensorthings.write import create, update

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=30),
    st.sampled_from(
        [
            "2026-03-01T10:00:00Z",
            "2026-03-01T10:00:00Z/2026-03-01T11:00:00Z",
            "0001-01-01T00:00:00+01:00",
            "application/geo+json",
            "9999-12-31T23:59:59-12:00",
        ]
    ),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
KEYS = {
    "Things": ["name", "description", "properties", "Locations", "Datastreams"],
    "Locations": ["name", "description", "encodingType", "location", "Things"],
    "Datastreams": [
        "name",
        "unitOfMeasurement",
        "observationType",
        "Thing",
        "Sensor",
        "ObservedProperty",
    ],
    "Observations": [
        "phenomenonTime",
        "result",
        "resultTime",
        "validTime",
        "parameters",
        "Datastream",
        "FeatureOfInterest",
    ],
}


def bodies(entity_set):
    keys = KEYS[entity_set]
    geometry = st.fixed_dictionaries(
        {"type": st.sampled_from(["Point", "Polygon", "LineString", "Nope"]), "coordinates": JSON}
    )
    value = st.one_of(JSON, geometry, st.fixed_dictionaries({"@iot.id": JSON}))
    return st.dictionaries(st.sampled_from(keys), value, max_size=len(keys))


@pytest.mark.parametrize("entity_set", sorted(KEYS))
def test_create_and_update_answer_every_body_with_a_client_error_at_worst(world, sta, entity_set):
    target = {"Things": world.node_a, "Datastreams": sta.text_stream}.get(entity_set)

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(body=bodies(entity_set))
    def check(body):
        with transaction.atomic():
            try:
                create(entity_set, body, user=world.alice, organization=world.org_a)
                if target is not None:
                    update(entity_set, target, body, user=world.alice)
            except StaError as exc:
                assert 400 <= exc.status < 500
            transaction.set_rollback(True)

    check()
