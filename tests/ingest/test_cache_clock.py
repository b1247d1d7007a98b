"""The ingest directory's TTLs hold whatever the clock's origin: ``time.monotonic()``
counts from machine boot, so a service started right after boot sees small values."""

import json

import pytest

from sensorgrid.ingest import cache, pipeline
from sensorgrid.inventory.models import Quantity
from sensorgrid.telemetry.models import DeadLetter, Sample
from tests.ingest.conftest import envelope, hours_ago


class Clock:
    """Seconds since boot, moved by the test."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def just_booted(monkeypatch) -> Clock:
    """This process's directory, fresh, in a process started 5 s after boot."""
    clock = Clock(5.0)
    monkeypatch.setattr(cache, "directory", cache.Directory(clock=clock))
    return clock


def test_a_process_started_just_after_boot_stores_values_at_once(world, just_booted):
    payload = json.dumps(
        [{"device": world.node_a.device_id, "ts": hours_ago(1).isoformat(), "values": {"co2": 612}}]
    ).encode()
    result = pipeline.ingest(envelope(payload), "json")
    assert result.accepted == 1
    assert Sample.objects.filter(node=world.node_a, quantity__key="co2").count() == 1
    assert not DeadLetter.objects.exists()


def test_quantities_are_cached_for_the_ttl_and_reloaded_after_it(world, just_booted):
    directory = cache.directory
    assert "co2" in directory.quantities()
    # As another process would add it: no signal reaches this one.
    Quantity.objects.bulk_create([Quantity(key="radon", name="Radon", unit="Bq/m³")])
    just_booted.now += cache.TTL - 1
    assert "radon" not in directory.quantities()  # still the cached answer
    just_booted.now += 1
    assert "radon" in directory.quantities()


def test_a_cleared_directory_reloads_on_next_use(world, just_booted):
    directory = cache.directory
    directory.quantities()
    Quantity.objects.create(key="radon", name="Radon", unit="Bq/m³")  # its signal clears
    assert "radon" in directory.quantities()
