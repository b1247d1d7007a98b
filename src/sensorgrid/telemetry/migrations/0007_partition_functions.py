"""Sample partitions are made and dropped by two functions that run as their owner.

The application's database role has data access only (docs/deployment.md, "Database
roles"): it cannot CREATE, ALTER or DROP a table. Partition maintenance (the worker's
hourly `partitions.ensure`, retention's `drop_before`) is DDL, so it goes through these
SECURITY DEFINER functions, owned by the role that runs the migrations. They can do exactly
one thing each: attach the month that starts at a given first day (moving its rows out of
the default partition), or detach and drop one month. Nobody may call them but the
owner and the roles `sensorgrid dbroles` grants EXECUTE to. 0002 no longer creates the
first months: they need these functions, so this migration does.
"""

from django.db import migrations

FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION sensorgrid_create_sample_partition(first_day date)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    schema_name text := @SCHEMA@;
    partition_name text := 'telemetry_sample_' || to_char(first_day, 'YYYYMM');
    start_ts timestamptz := first_day::timestamp AT TIME ZONE 'UTC';
    end_ts timestamptz := (first_day + interval '1 month')::timestamp AT TIME ZONE 'UTC';
BEGIN
    IF first_day IS NULL OR first_day <> date_trunc('month', first_day)::date THEN
        RAISE EXCEPTION 'a sample partition starts on the first day of a month, not %', first_day;
    END IF;
    IF to_regclass(format('%I.%I', schema_name, partition_name)) IS NOT NULL THEN
        RETURN false;
    END IF;
    EXECUTE format('CREATE TABLE %I.%I (LIKE %I.telemetry_sample INCLUDING ALL)',
                   schema_name, partition_name, schema_name);
    -- Rows of this month in the default partition would block the attach.
    EXECUTE format('WITH moved AS (DELETE FROM %I.telemetry_sample_default '
                   'WHERE ts >= %L AND ts < %L RETURNING *) '
                   'INSERT INTO %I.%I SELECT * FROM moved',
                   schema_name, start_ts, end_ts, schema_name, partition_name);
    EXECUTE format('ALTER TABLE %I.telemetry_sample ATTACH PARTITION %I.%I '
                   'FOR VALUES FROM (%L) TO (%L)',
                   schema_name, schema_name, partition_name, start_ts, end_ts);
    RETURN true;
END
$$;

CREATE OR REPLACE FUNCTION sensorgrid_drop_sample_partition(first_day date)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    schema_name text := @SCHEMA@;
    partition_name text := 'telemetry_sample_' || to_char(first_day, 'YYYYMM');
BEGIN
    IF first_day IS NULL OR first_day <> date_trunc('month', first_day)::date THEN
        RAISE EXCEPTION 'a sample partition starts on the first day of a month, not %', first_day;
    END IF;
    IF to_regclass(format('%I.%I', schema_name, partition_name)) IS NULL THEN
        RETURN false;
    END IF;
    EXECUTE format('ALTER TABLE %I.telemetry_sample DETACH PARTITION %I.%I',
                   schema_name, schema_name, partition_name);
    EXECUTE format('DROP TABLE %I.%I', schema_name, partition_name);
    RETURN true;
END
$$;

-- EXECUTE is PostgreSQL's default for everybody: only the owner and the roles that
-- `sensorgrid dbroles` grants it to may call these.
REVOKE ALL ON FUNCTION sensorgrid_create_sample_partition(date) FROM PUBLIC;
REVOKE ALL ON FUNCTION sensorgrid_drop_sample_partition(date) FROM PUBLIC;
"""

DROP = """
DROP FUNCTION IF EXISTS sensorgrid_create_sample_partition(date);
DROP FUNCTION IF EXISTS sensorgrid_drop_sample_partition(date);
"""


def create_functions(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from sensorgrid.telemetry import partitions

    # Not schema_editor.execute: it would read format()'s %I and %L as placeholders.
    with schema_editor.connection.cursor() as cursor:
        # The functions resolve no name through a search path (they run with the owner's
        # rights): every table is qualified with the schema the migrations run in.
        cursor.execute("SELECT quote_literal(current_schema())")
        (schema,) = cursor.fetchone()
        cursor.execute(FUNCTIONS.replace("@SCHEMA@", schema))
    partitions.ensure()


def drop_functions(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("telemetry", "0006_dead_letter_no_values_reason")]
    operations = [migrations.RunPython(create_functions, drop_functions)]
