"""The tables every ingest batch updates leave room in their pages (PostgreSQL).

An update that fits in its row's page is HOT: no index gets an entry. Latest values,
rollups and a node's last_seen are updated by every batch (docs/performance.md).
"""

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def fillfactor(table: str) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = %s", [table])
        (options,) = cursor.fetchone()
    found = [o.split("=", 1)[1] for o in options or () if o.startswith("fillfactor=")]
    return found[0] if found else None


def test_updated_tables_leave_room_for_hot_updates():
    if connection.vendor != "postgresql":
        pytest.skip("fillfactor is PostgreSQL's (SQLite has no such storage parameter)")
    assert fillfactor("telemetry_latest") == "50"
    assert fillfactor("telemetry_rollup") == "70"
    assert fillfactor("inventory_node") == "70"
    assert fillfactor("telemetry_sample") is None  # only inserted into
