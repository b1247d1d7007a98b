"""Both SensorThings views get ``thing_id``: the node of the row's Datastream, in both stores.

The walls filter Observations by the Datastream's organization and node (a public
installation publishes a node's Observations of its period). PostgreSQL pushes a filter
into the branches of a UNION ALL view only when it holds no subquery, so the walls give
these as constants (sensorgrid.sensorthings.walls); with the node a column of the view, the
public periods are plain conditions on the view's own columns, checked inside each branch
on the Datastream before the samples are read. A new last column: PostgreSQL replaces the
views in place (grants kept), SQLite drops and creates them.
"""

from django.db import migrations

FACTOR = 1 << 43  # sensorgrid.sensorthings.ids.FACTOR
LIMIT = 1 << 20  # ids.MAX_DATASTREAM_ID + 1

POSTGRESQL_OBSERVATION_ROW = f"""
CREATE OR REPLACE VIEW sensorthings_observation_row AS
SELECT d.id * {FACTOR} + floor(extract(epoch FROM s.ts) * 1000)::bigint AS id,
       d.id AS datastream_id,
       d.organization_id AS organization_id,
       sd.feature_of_interest_id AS feature_of_interest_id,
       s.node_id AS node_id,
       s.quantity_id AS quantity_id,
       NULL::bigint AS observation_id,
       s.ts AS phenomenon_time,
       sd.phenomenon_time_end AS phenomenon_time_end,
       s.value AS result_number,
       NULL::jsonb AS result,
       sd.result_time AS result_time,
       sd.valid_time_start AS valid_time_start,
       sd.valid_time_end AS valid_time_end,
       sd.parameters AS parameters,
       sd.result_quality AS result_quality,
       d.node_id AS thing_id
FROM telemetry_sample s
JOIN sensorthings_datastream d
  ON d.store = 'samples' AND d.node_id = s.node_id AND d.quantity_id = s.quantity_id
LEFT JOIN sensorthings_sampledetails sd
  ON sd.node_id = s.node_id AND sd.quantity_id = s.quantity_id AND sd.ts = s.ts
WHERE d.id < {LIMIT} AND s.ts >= '1970-01-01 00:00:00+00'
UNION ALL
SELECT d.id * {FACTOR} + o.id,
       d.id,
       d.organization_id,
       o.feature_of_interest_id,
       NULL::bigint,
       NULL::bigint,
       o.id::bigint,
       o.phenomenon_time,
       o.phenomenon_time_end,
       CASE WHEN jsonb_typeof(o.result) = 'number'
            THEN (o.result #>> '{{}}')::double precision END,
       o.result,
       o.result_time,
       o.valid_time_start,
       o.valid_time_end,
       o.parameters,
       o.result_quality,
       d.node_id
FROM sensorthings_observation o
JOIN sensorthings_datastream d ON d.id = o.datastream_id
WHERE d.id < {LIMIT}
"""

POSTGRESQL_SAMPLE_ROW = f"""
CREATE OR REPLACE VIEW sensorthings_sample_row AS
SELECT d.id * {FACTOR} + floor(extract(epoch FROM s.ts) * 1000)::bigint AS id,
       d.id AS datastream_id,
       d.organization_id AS organization_id,
       sd.feature_of_interest_id AS feature_of_interest_id,
       s.node_id AS node_id,
       s.quantity_id AS quantity_id,
       NULL::bigint AS observation_id,
       s.ts AS phenomenon_time,
       sd.phenomenon_time_end AS phenomenon_time_end,
       s.value AS result_number,
       NULL::jsonb AS result,
       sd.result_time AS result_time,
       sd.valid_time_start AS valid_time_start,
       sd.valid_time_end AS valid_time_end,
       sd.parameters AS parameters,
       sd.result_quality AS result_quality,
       d.node_id AS thing_id
FROM telemetry_sample s
JOIN sensorthings_datastream d
  ON d.store = 'samples' AND d.node_id = s.node_id AND d.quantity_id = s.quantity_id
LEFT JOIN sensorthings_sampledetails sd
  ON sd.node_id = s.node_id AND sd.quantity_id = s.quantity_id AND sd.ts = s.ts
WHERE d.id < {LIMIT} AND s.ts >= '1970-01-01 00:00:00+00'
"""

SQLITE_OBSERVATION_ROW = f"""
CREATE VIEW sensorthings_observation_row AS
SELECT d.id * {FACTOR} + CAST(strftime('%s', substr(s.ts, 1, 19)) AS INTEGER) * 1000
       + CAST(substr(s.ts || '.000000', 21, 3) AS INTEGER) AS id,
       d.id AS datastream_id,
       d.organization_id AS organization_id,
       sd.feature_of_interest_id AS feature_of_interest_id,
       s.node_id AS node_id,
       s.quantity_id AS quantity_id,
       NULL AS observation_id,
       s.ts AS phenomenon_time,
       sd.phenomenon_time_end AS phenomenon_time_end,
       s.value AS result_number,
       NULL AS result,
       sd.result_time AS result_time,
       sd.valid_time_start AS valid_time_start,
       sd.valid_time_end AS valid_time_end,
       sd.parameters AS parameters,
       sd.result_quality AS result_quality,
       d.node_id AS thing_id
FROM telemetry_sample s
JOIN sensorthings_datastream d
  ON d.store = 'samples' AND d.node_id = s.node_id AND d.quantity_id = s.quantity_id
LEFT JOIN sensorthings_sampledetails sd
  ON sd.node_id = s.node_id AND sd.quantity_id = s.quantity_id AND sd.ts = s.ts
WHERE d.id < {LIMIT} AND s.ts >= '1970-01-01'
UNION ALL
SELECT d.id * {FACTOR} + o.id,
       d.id,
       d.organization_id,
       o.feature_of_interest_id,
       NULL,
       NULL,
       o.id,
       o.phenomenon_time,
       o.phenomenon_time_end,
       CASE WHEN json_type(o.result) IN ('integer', 'real')
            THEN CAST(json_extract(o.result, '$') AS REAL) END,
       o.result,
       o.result_time,
       o.valid_time_start,
       o.valid_time_end,
       o.parameters,
       o.result_quality,
       d.node_id
FROM sensorthings_observation o
JOIN sensorthings_datastream d ON d.id = o.datastream_id
WHERE d.id < {LIMIT}
"""

SQLITE_SAMPLE_ROW = f"""
CREATE VIEW sensorthings_sample_row AS
SELECT d.id * {FACTOR} + CAST(strftime('%s', substr(s.ts, 1, 19)) AS INTEGER) * 1000
       + CAST(substr(s.ts || '.000000', 21, 3) AS INTEGER) AS id,
       d.id AS datastream_id,
       d.organization_id AS organization_id,
       sd.feature_of_interest_id AS feature_of_interest_id,
       s.node_id AS node_id,
       s.quantity_id AS quantity_id,
       NULL AS observation_id,
       s.ts AS phenomenon_time,
       sd.phenomenon_time_end AS phenomenon_time_end,
       s.value AS result_number,
       NULL AS result,
       sd.result_time AS result_time,
       sd.valid_time_start AS valid_time_start,
       sd.valid_time_end AS valid_time_end,
       sd.parameters AS parameters,
       sd.result_quality AS result_quality,
       d.node_id AS thing_id
FROM telemetry_sample s
JOIN sensorthings_datastream d
  ON d.store = 'samples' AND d.node_id = s.node_id AND d.quantity_id = s.quantity_id
LEFT JOIN sensorthings_sampledetails sd
  ON sd.node_id = s.node_id AND sd.quantity_id = s.quantity_id AND sd.ts = s.ts
WHERE d.id < {LIMIT} AND s.ts >= '1970-01-01'
"""

VIEWS = {
    "postgresql": [POSTGRESQL_SAMPLE_ROW, POSTGRESQL_OBSERVATION_ROW],
    "sqlite": [SQLITE_SAMPLE_ROW, SQLITE_OBSERVATION_ROW],
}


def create_views(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    # Not schema_editor.execute: SQLite's strftime('%s') is no placeholder.
    with schema_editor.connection.cursor() as cursor:
        for statement in VIEWS[vendor]:
            if vendor == "sqlite":
                name = statement.split("CREATE VIEW ")[1].split()[0]
                cursor.execute(f"DROP VIEW IF EXISTS {name}")
            cursor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("sensorthings", "0005_views_only_encodable_ids")]

    # Backwards: an extra last column is harmless under the older migrations.
    operations = [migrations.RunPython(create_views, migrations.RunPython.noop, elidable=False)]
