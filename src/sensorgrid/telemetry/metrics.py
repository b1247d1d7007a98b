"""The size of each sample partition on /metrics (PostgreSQL), read at scrape time.

What the alert rules need to see the samples table's disk use grow, and rows pile up in
the default partition when the monthly ones are not made (deploy/prometheus/). One catalogue
query (``pg_total_relation_size``: table, indexes and TOAST). Registered by
``TelemetryConfig.ready()``; SQLite has no partitions and exports nothing.
"""

from collections.abc import Iterator

from django.db import connection
from prometheus_client.core import GaugeMetricFamily, Metric

from sensorgrid.telemetry import partitions


class PartitionSizeCollector:
    def collect(self) -> Iterator[Metric]:
        if not partitions.is_partitioned():
            return
        sizes = GaugeMetricFamily(
            "sensorgrid_sample_partition_bytes",
            "Bytes on disk of each samples partition (table, indexes, TOAST), the default "
            "partition included.",
            labels=["partition"],
        )
        with connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT child.relname, pg_total_relation_size(child.oid) FROM pg_inherits
                JOIN pg_class parent ON parent.oid = pg_inherits.inhparent
                JOIN pg_class child ON child.oid = pg_inherits.inhrelid
                WHERE parent.relname = %s AND parent.relnamespace = child.relnamespace
                  AND pg_catalog.pg_table_is_visible(parent.oid)
                ORDER BY child.relname
                """,
                [partitions.PARENT],
            )
            for name, size in cursor.fetchall():
                sizes.add_metric([name], float(size))
        yield sizes
