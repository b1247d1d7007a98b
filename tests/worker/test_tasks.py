"""The worker's periodic tasks are idempotent and safe in two workers at once."""

from datetime import date

import pytest
from django.db import connection

from sensorgrid.telemetry import partitions
from sensorgrid.worker import heartbeat
from sensorgrid.worker.models import Heartbeat
from sensorgrid.worker.tasks import heartbeat as heartbeat_task
from tests.concurrency import at_once

ON_POSTGRES = connection.vendor == "postgresql"


def test_a_worker_keeps_one_heartbeat_row_and_moves_it_forward(db):
    heartbeat_task.call_local()
    first = Heartbeat.objects.get().beat_at
    heartbeat_task.call_local()
    assert Heartbeat.objects.count() == 1
    assert Heartbeat.objects.get().beat_at >= first
    assert heartbeat.newest() == Heartbeat.objects.get().beat_at


@pytest.mark.skipif(not ON_POSTGRES, reason="sample partitions exist on PostgreSQL only")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # keeps seeded rows
def test_two_workers_creating_partitions_at_once_create_each_once():
    today = date(2091, 6, 15)  # months no other test touches
    expected = {p.name for p in partitions.around(today, 1, 3)}
    try:
        created = at_once(lambda: partitions.ensure(today=today))
        assert sorted(created[0] + created[1]) == sorted(expected)  # each exactly once
        assert expected <= {p.name for p in partitions.existing()}
    finally:
        with connection.cursor() as cursor:
            for name in expected:
                cursor.execute(f'DROP TABLE IF EXISTS "{name}"')
