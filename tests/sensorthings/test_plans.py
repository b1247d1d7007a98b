"""One Datastream's Observations by time come off the samples' primary-key index, in order
(the FROST #1877 case): EXPLAIN on the database itself, no timing."""

from datetime import timedelta

import pytest
from django.db import connection

from sensorgrid.sensorthings import observations
from tests.sensorthings.conftest import MARCH

pytestmark = pytest.mark.django_db


def plan(qs) -> str:
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Only what an index can give may avoid a sort: tiny test tables would
            # otherwise be read whole, which says nothing about large ones.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_bitmapscan = off")
            cursor.execute("SET LOCAL enable_sort = off")
            cursor.execute("EXPLAIN (COSTS OFF) " + sql, params)
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        return "\n".join(str(row[-1]) for row in cursor.fetchall())


def test_a_time_range_newest_first_reads_the_index_in_order(world, sta):
    co2 = sta.datastream(world.node_a, sta.co2)
    page = (
        observations.of_datastream(co2, world.bob)
        .filter(phenomenon_time__gte=MARCH - timedelta(days=365), phenomenon_time__lt=MARCH)
        .order_by("-phenomenon_time")[:100]
    )
    text = plan(page)
    if connection.vendor == "postgresql":
        assert "Index Scan Backward using telemetry_sample" in text, text
        assert "Sort" not in text, text
    else:
        # the primary key (node_id, quantity_id, ts) is SQLite's automatic index
        assert (
            "USING INDEX sqlite_autoindex_telemetry_sample_1 (node_id=? AND quantity_id=? AND ts>?"
            in text
        ), text
        assert "TEMP B-TREE FOR ORDER BY" not in text, text
