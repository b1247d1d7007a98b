"""The view ``sensorthings_observation_row``: every Observation of both stores as one relation.

Branch 1, the samples store: each sample of a series that has a samples Datastream, its
details (``sensorthings_sampledetails``) if it was posted through STA; the id is the
Datastream's id << 43 plus the sample's time in whole milliseconds since 1970 (floored,
sensorgrid.sensorthings.ids). Branch 2, the observations store: each ``Observation`` row,
id = Datastream id << 43 plus the row's id; ``result_number`` is its result when that is a
JSON number. The columns are ``ObservationRow``'s fields.

A view holds no rows and costs nothing to create; but PostgreSQL refuses to change the type
of a column a view reads (or to drop it): a later migration that alters ``telemetry_sample``
or one of these tables drops the view first and creates it again after, with the SQL
of the newest migration that (re)creates it.
"""

from django.db import migrations

FACTOR = 1 << 43  # sensorgrid.sensorthings.ids.FACTOR

POSTGRESQL = f"""
CREATE VIEW sensorthings_observation_row AS
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
       sd.result_quality AS result_quality
FROM telemetry_sample s
JOIN sensorthings_datastream d
  ON d.store = 'samples' AND d.node_id = s.node_id AND d.quantity_id = s.quantity_id
LEFT JOIN sensorthings_sampledetails sd
  ON sd.node_id = s.node_id AND sd.quantity_id = s.quantity_id AND sd.ts = s.ts
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
       o.result_quality
FROM sensorthings_observation o
JOIN sensorthings_datastream d ON d.id = o.datastream_id
"""

# SQLite keeps times as text 'YYYY-MM-DD HH:MM:SS[.ffffff]' (UTC): the milliseconds are
# read off the text, not through julianday(), which rounds to the nearest millisecond.
SQLITE = f"""
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
       sd.result_quality AS result_quality
FROM telemetry_sample s
JOIN sensorthings_datastream d
  ON d.store = 'samples' AND d.node_id = s.node_id AND d.quantity_id = s.quantity_id
LEFT JOIN sensorthings_sampledetails sd
  ON sd.node_id = s.node_id AND sd.quantity_id = s.quantity_id AND sd.ts = s.ts
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
       o.result_quality
FROM sensorthings_observation o
JOIN sensorthings_datastream d ON d.id = o.datastream_id
"""

VIEW_SQL = {"postgresql": POSTGRESQL, "sqlite": SQLITE}


def create_view(apps, schema_editor):
    sql = VIEW_SQL.get(schema_editor.connection.vendor)
    if sql is None:
        raise NotImplementedError(
            f"SensorThings needs PostgreSQL or SQLite, not {schema_editor.connection.vendor}"
        )
    # Not schema_editor.execute: SQLite's strftime('%s') is no placeholder.
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(sql)


def drop_view(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("DROP VIEW IF EXISTS sensorthings_observation_row")


class Migration(migrations.Migration):
    dependencies = [
        ("sensorthings", "0001_initial"),
        # The partitioned samples table (0002) and its first months (0007).
        ("telemetry", "0007_partition_functions"),
    ]

    operations = [migrations.RunPython(create_view, drop_view, elidable=False)]
