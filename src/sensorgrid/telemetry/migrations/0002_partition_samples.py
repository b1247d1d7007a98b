"""On PostgreSQL, make the samples table range-partitioned by month.

SQLite keeps the plain table Django created in 0001.
"""

from django.db import migrations

PARTITIONED = """
DROP TABLE telemetry_sample;
CREATE TABLE telemetry_sample (
    node_id bigint NOT NULL,
    quantity_id bigint NOT NULL,
    ts timestamptz NOT NULL,
    value double precision NOT NULL,
    PRIMARY KEY (node_id, quantity_id, ts)
) PARTITION BY RANGE (ts);
CREATE TABLE telemetry_sample_default PARTITION OF telemetry_sample DEFAULT;
"""

PLAIN = """
DROP TABLE telemetry_sample;
CREATE TABLE telemetry_sample (
    node_id bigint NOT NULL,
    quantity_id bigint NOT NULL,
    ts timestamptz NOT NULL,
    value double precision NOT NULL,
    PRIMARY KEY (node_id, quantity_id, ts)
);
"""


def partition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from sensorgrid.telemetry import partitions

    schema_editor.execute(PARTITIONED)
    partitions.ensure()


def unpartition(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PLAIN)


class Migration(migrations.Migration):
    dependencies = [("telemetry", "0001_initial")]
    operations = [migrations.RunPython(partition, unpartition)]
