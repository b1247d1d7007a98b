import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from sensorgrid.ingest import pipeline
from sensorgrid.telemetry import partitions
from sensorgrid.telemetry.models import Rollup, Sample
from tests.ingest.conftest import envelope


def store(device: str, ts: datetime, value: float = 500) -> None:
    message = {"device": device, "ts": ts.isoformat(), "values": {"co2": value}}
    outcome = pipeline.ingest(envelope(json.dumps(message).encode()), "json")
    assert outcome.accepted == 1, outcome


def test_prune_deletes_expired_raw_samples_of_that_organization_only(world):
    old = timezone.now() - timedelta(days=40)
    store(world.node_a.device_id, old)
    store(world.node_b.device_id, old)
    store(world.node_a.device_id, timezone.now() - timedelta(days=1))
    world.org_a.raw_retention_days = 30
    world.org_a.save()
    call_command("prune")
    assert Sample.objects.filter(node=world.node_a).count() == 1
    assert Sample.objects.filter(node=world.node_b).count() == 1  # org B keeps forever
    # the rollups of the pruned hour are kept
    assert Rollup.objects.filter(node=world.node_a, resolution=3600).count() == 2


def test_an_owner_sets_the_retention_through_the_api(world, client_for):
    url = f"/api/v1/organizations/{world.org_a.pk}/"
    response = client_for(world.alice).patch(url, {"raw_retention_days": 365}, format="json")
    assert response.status_code == 200 and response.json()["raw_retention_days"] == 365
    refused = client_for(world.alice).patch(url, {"raw_retention_days": 0}, format="json")
    assert refused.status_code == 400 and "raw_retention_days" in refused.json()


def test_new_partitions_take_over_rows_from_the_default_partition(world):
    if connection.vendor != "postgresql":
        pytest.skip("partitions exist on PostgreSQL only")
    far = datetime(2031, 5, 17, 12, tzinfo=UTC)  # beyond the prepared months
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO telemetry_sample VALUES (%s, 1, %s, 1.0)", [world.node_a.pk, far]
        )
    created = partitions.ensure(back=0, ahead=0, today=far.date())
    assert created == ["telemetry_sample_203105"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM telemetry_sample_203105")
        assert cursor.fetchone()[0] == 1
        cursor.execute("SELECT count(*) FROM telemetry_sample_default")
        assert cursor.fetchone()[0] == 0


def test_prune_drops_whole_partitions_when_every_organization_has_a_retention(world):
    if connection.vendor != "postgresql":
        pytest.skip("partitions exist on PostgreSQL only")
    ancient = datetime(2020, 3, 10, tzinfo=UTC)
    partitions.ensure(back=0, ahead=0, today=ancient.date())
    store(world.node_a.device_id, ancient)
    for organization in (world.org_a, world.org_b):
        organization.raw_retention_days = 365
        organization.save()
    call_command("prune")
    assert "telemetry_sample_202003" not in {p.name for p in partitions.existing()}
    assert not Sample.objects.filter(ts__lt=datetime(2021, 1, 1, tzinfo=UTC)).exists()
