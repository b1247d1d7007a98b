"""On PostgreSQL, make the samples table range-partitioned by month.

SQLite keeps the plain table Django created in 0001. The first months are created by
0007, through the functions that make every partition since.
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
    schema_editor.execute(PARTITIONED)


def unpartition(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PLAIN)


class Migration(migrations.Migration):
    dependencies = [("telemetry", "0001_initial")]
    operations = [migrations.RunPython(partition, unpartition)]
