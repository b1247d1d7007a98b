"""Shared SensorThings fixtures: the personas' world (tests/conftest.py) with values.

``sta`` adds to ``world`` (alice owns org A, bob inspects it, charlie owns org B):

- quantities co2 and temperature; org A's model ``model_a`` measures both;
- samples written through the ingest writer (so ``Latest`` knows the series, as after
  ingestion): ``node_a`` co2 at 10:00 and 10:05 on 2026-03-01 (and temperature once),
  ``public_node`` co2 on 2025-12-31 (before its public installation, which starts
  2026-01-01) and on 2026-03-01 (inside it), ``node_b`` co2 on 2026-03-01;
- an observations-store Datastream of ``node_a`` (``text_stream``) with one
  Observation per JSON result type;
- every mirror made (``mirror.ensure()``).
"""

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from sensorgrid.ingest import writer
from sensorgrid.ingest.validate import Row
from sensorgrid.inventory.models import Quantity
from sensorgrid.sensorthings import mirror
from sensorgrid.sensorthings.models import Datastream, Observation, ObservedProperty, Sensor

MARCH = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
BEFORE_PUBLIC = datetime(2025, 12, 31, 12, 0, tzinfo=UTC)

#: One result of every JSON type (the observations store keeps them as given).
RESULTS = [21, 21.5, "cloudy", True, {"a": [1, 2]}, [1, "x"], None]


@dataclass
class Sta:
    co2: Quantity
    temperature: Quantity
    text_stream: Datastream
    observations: list[Observation]

    def datastream(self, node, quantity) -> Datastream:
        return Datastream.objects.get(node=node, quantity=quantity, store="samples")


def write_samples(*rows: tuple) -> None:
    """Store samples ``(node, quantity, ts, value)`` as the ingest pipeline does."""
    writer.write([Row(node.pk, quantity.pk, ts, value) for node, quantity, ts, value in rows])


@pytest.fixture
def sta(world) -> Sta:
    co2 = Quantity.objects.get(key="co2")
    temperature = Quantity.objects.get(key="temperature")
    world.model_a.quantities.add(co2, temperature)
    write_samples(
        (world.node_a, co2, MARCH, 400.0),
        (world.node_a, co2, MARCH.replace(minute=5), 410.0),
        (world.node_a, temperature, MARCH, 21.0),
        (world.public_node, co2, BEFORE_PUBLIC, 500.0),
        (world.public_node, co2, MARCH, 510.0),
        (world.node_b, co2, MARCH, 600.0),
    )
    mirror.ensure()
    sensor = Sensor.objects.create(
        organization=world.org_a, name="Eyes", encoding_type="text/plain"
    )
    prop = ObservedProperty.objects.create(organization=world.org_a, name="Sky")
    text_stream = Datastream.objects.create(
        organization=world.org_a,
        node=world.node_a,
        sensor=sensor,
        observed_property=prop,
        store="observations",
        name="Sky of secretA",
        observation_type="http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Observation",
    )
    observations = [
        Observation.objects.create(
            datastream=text_stream, phenomenon_time=MARCH.replace(minute=i), result=result
        )
        for i, result in enumerate(RESULTS)
    ]
    return Sta(co2, temperature, text_stream, observations)
