"""The batch writer outside a transaction (autocommit): a batch is its own transaction.

On PostgreSQL the COPY into the staging table committed alone, ON COMMIT DELETE ROWS
emptied the table, and the INSERT that followed found nothing: every row was lost
without an error (a transactional test's fixture did this; any caller could have).
"""

from datetime import UTC, datetime

import pytest

from sensorgrid.ingest import writer
from sensorgrid.ingest.validate import Row
from sensorgrid.inventory.models import Quantity
from sensorgrid.telemetry.models import Latest, Rollup, Sample

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

MARCH = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def test_a_batch_written_in_autocommit_mode_is_stored_with_its_rollups(world):
    co2 = Quantity.objects.get(key="co2")
    rows = [Row(world.node_a.pk, co2.pk, MARCH.replace(minute=m), 400.0 + m) for m in (0, 5)]
    result = writer.write(rows)
    assert (result.inserted, result.duplicates) == (2, 0)
    stored = Sample.objects.filter(node=world.node_a, quantity=co2).order_by("ts")
    assert [s.value for s in stored] == [400.0, 405.0]
    assert Latest.objects.get(node=world.node_a, quantity=co2).value == 405.0
    assert Rollup.objects.filter(node=world.node_a, quantity=co2, count=2).count() == 2
    again = writer.write(rows)  # repeated: nothing new anywhere
    assert (again.inserted, again.duplicates) == (0, 2)
    assert Rollup.objects.filter(node=world.node_a, quantity=co2, count=2).count() == 2
