"""Apply every migration one at a time and watch what each does to the ``telemetry_*`` tables.

Run inside ``sensorgrid shell`` against a throwaway PostgreSQL database (tests/deploy/
test_upgrades.py does). Before each migration a value is stored in every samples table that
exists, the catalogue of the ``telemetry_*`` relations is read (each table's file node,
columns, indexes), the migration is applied, and both are read again. PostgreSQL gives a
table a new file node exactly when it rewrites it (ALTER COLUMN … TYPE, ADD COLUMN with a
volatile default, SET LOGGED, CLUSTER, VACUUM FULL, TRUNCATE) or when it is dropped and made
again, so a changed file node is a rewrite, whatever SQL or Python caused it; a value that
disappeared is a lost row. A migration touches the telemetry tables when its SQL (as
``sqlmigrate`` prints it) names one or when it changed their catalogue.

``walk(extra)`` prints one JSON line: per migration, whether it touched them, its SQL
statements naming ``telemetry_``, the tables rewritten and the rows lost. ``extra`` are migrations
applied after the project's (the tests' examples of what must be caught).
"""

import json
from datetime import UTC, datetime
from typing import Any

from django.db import connection, migrations
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.state import ProjectState

# A value in a month of its own, so it sits in the default partition until one is made.
PROBE_TS = datetime(2001, 1, 1, tzinfo=UTC)


def catalogue() -> dict[str, Any]:
    """Every ``telemetry_*`` relation: kind and file node; columns with their types."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, c.relkind, c.relfilenode,
                   coalesce(string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
                                       || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END,
                                       ', ' ORDER BY a.attnum), '')
            FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()
            LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
                                        AND NOT a.attisdropped
            WHERE c.relname LIKE 'telemetry\\_%%'
            GROUP BY c.relname, c.relkind, c.relfilenode
            """
        )
        return {name: [kind, node, columns] for name, kind, node, columns in cursor.fetchall()}


def probe(present: dict[str, Any]) -> int | None:
    """Store one value in the samples table if it exists; return how many it holds."""
    if "telemetry_sample" not in present:
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO telemetry_sample (node_id, quantity_id, ts, value) "
            "SELECT coalesce(max(node_id), 0) + 1, 1, %s, 1.0 FROM telemetry_sample",
            [PROBE_TS],
        )
        cursor.execute("SELECT count(*) FROM telemetry_sample")
        return int(cursor.fetchone()[0])


def statements(executor: MigrationExecutor, state: ProjectState, migration: Any) -> list[str]:
    """The migration's SQL as ``sqlmigrate`` shows it, without its comments."""
    with connection.schema_editor(collect_sql=True, atomic=migration.atomic) as editor:
        migration.apply(state.clone(), editor, collect_sql=True)
    return [sql for sql in editor.collected_sql if not sql.startswith("--")]


def rewritten(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return sorted(
        name
        for name, (kind, node, _) in before.items()
        if kind in ("r", "m") and name in after and after[name][1] != node
    )


def walk(extra: list[migrations.Migration] = ()) -> None:  # type: ignore[assignment]
    executor = MigrationExecutor(connection)
    targets = executor.loader.graph.leaf_nodes()
    plan = [migration for migration, _ in executor.migration_plan(targets, clean_start=True)]
    state = ProjectState(real_apps=executor.loader.unmigrated_apps)
    report = []
    for migration in [*plan, *extra]:
        before = catalogue()
        count = probe(before)
        every = statements(executor, state, migration)
        sql = [statement for statement in every if "telemetry_" in statement]
        state = executor.apply_migration(state, migration)
        after = catalogue()
        survived = None
        if count is not None and "telemetry_sample" in after:
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM telemetry_sample")
                survived = int(cursor.fetchone()[0])
        report.append(
            {
                "migration": f"{migration.app_label}.{migration.name}",
                "touches": bool(sql) or after != before,
                "statements": len(every),
                "sql": sql,
                "changed": sorted(
                    name
                    for name in before.keys() | after.keys()
                    if before.get(name) != after.get(name)
                ),
                "rewritten": rewritten(before, after),
                "rows_lost": (count or 0) - (survived or 0) if count is not None else 0,
            }
        )
    print(json.dumps(report))
