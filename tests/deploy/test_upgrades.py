"""No migration rewrites the samples table (docs/operations.md, "Upgrading").

An upgrade runs `sensorgrid migrate` on a live install. A migration that makes PostgreSQL
rewrite the samples table (or the rollups) holds an ACCESS EXCLUSIVE lock for as long as
copying every stored value takes: ingest stops, and on a large install for hours. The
walk (tests/deploy/migration_walk.py) applies every migration of the project one at a time
to a throwaway database with values stored, lists those that touch a ``telemetry_*`` table,
and tells each table PostgreSQL rewrote by its changed file node, which no SQL reading can
miss. Migrations made up here show the walk catches the rewrites PostgreSQL really does
(a column's type, a volatile default) and lets pass what it does not (a constant or
``now()`` default, a new nullable column).
"""

import json
import os
import secrets
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.conf import settings

from tests.support.commands import Sensorgrid

DATABASE = settings.DATABASES["default"]
ROOT = Path(__file__).resolve().parents[2]
pytestmark = [
    pytest.mark.deploy,
    pytest.mark.skipif(
        not DATABASE["ENGINE"].endswith("postgresql"),
        reason="table rewrites are PostgreSQL's: tested in the PostgreSQL pass",
    ),
]

# Shipped before this rule, each with why it never rewrote a table holding data.
EXEMPT = {
    # Drops the plain table 0001 made and creates the partitioned one. Both came in the same
    # commit (fe5e67c), so every install applies them in one `migrate`, before any value.
    "telemetry.0002_partition_samples": "replaces 0001's empty table",
}

# Made-up migrations applied after the project's: the first two must be caught.
EXAMPLES = """
from django.db import migrations, models
from django.db.models.functions import Now, Random
from tests.deploy.migration_walk import walk

def example(name, *operations):
    migration = migrations.Migration(name, "telemetry")
    migration.operations = list(operations)
    return migration

# PostgreSQL changes no column a view reads: like a real migration, 9001 drops the
# SensorThings views first (sensorthings migration 0002).
walk([
    example("9001_sample_value_numeric", migrations.RunSQL(
        "DROP VIEW IF EXISTS sensorthings_sample_row; "
        "DROP VIEW IF EXISTS sensorthings_observation_row"), migrations.AlterField(
        "sample", "value", models.DecimalField(max_digits=12, decimal_places=3))),
    example("9002_rollup_volatile_default", migrations.AddField(
        "rollup", "jitter", models.FloatField(db_default=Random()))),
    example("9003_rollup_constant_default", migrations.AddField(
        "rollup", "weight", models.FloatField(default=1.0))),
    example("9004_rollup_now_default", migrations.AddField(
        "rollup", "stamped", models.DateTimeField(db_default=Now()))),
    example("9005_sample_nullable_column", migrations.AddField(
        "sample", "note", models.TextField(null=True))),
])
"""


def superuser(dbname: str = "postgres") -> psycopg.Connection[Any]:
    return psycopg.connect(
        dbname=dbname,
        user=DATABASE["USER"] or None,
        password=DATABASE["PASSWORD"] or None,
        host=DATABASE["HOST"] or None,
        port=DATABASE["PORT"] or None,
        autocommit=True,
    )


@pytest.fixture(scope="module")
def walked(tmp_path_factory) -> dict[str, dict[str, Any]]:
    name = f"sg_upgrades_{secrets.token_hex(4)}"
    directory = tmp_path_factory.mktemp("upgrades")
    host = f"{DATABASE['HOST'] or '127.0.0.1'}:{DATABASE['PORT'] or 5432}"
    login = (
        f"{DATABASE['USER']}:{DATABASE['PASSWORD']}" if DATABASE["PASSWORD"] else DATABASE["USER"]
    )
    commands = Sensorgrid(
        sys.executable,
        {
            **{k: v for k, v in os.environ.items() if not k.startswith("SENSORGRID_")},
            "SENSORGRID_VAR_DIR": str(directory),
            "SENSORGRID_LOG_QUIET": "1",
            "SENSORGRID_DATABASE_URL": f"postgres://{login}@{host}/{name}",
            "PYTHONPATH": str(ROOT),
        },
        directory,
    )
    admin = superuser()
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        done = commands.run("shell", "-c", EXAMPLES, timeout=600)
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return {entry["migration"]: entry for entry in report}


def project(walked: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The project's migrations that touch a telemetry table."""
    return {name: entry for name, entry in walked.items() if ".9" not in name and entry["touches"]}


def test_the_walk_lists_every_migration_that_touches_the_telemetry_tables(walked):
    touching = project(walked)
    on_disk = {
        f"telemetry.{path.stem}"
        for path in (ROOT / "src/sensorgrid/telemetry/migrations").glob("0*.py")
    }
    # Every migration of the telemetry app with SQL makes or changes its tables (those that
    # only change choices have none); others may too, and the walk lists those as well.
    with_sql = {name for name in on_disk if walked[name]["statements"]}
    assert with_sql <= touching.keys(), sorted(with_sql - touching.keys())
    # RunPython and RunSQL show no SQL to sqlmigrate: the catalogue gives them away
    python_only = {"telemetry.0002_partition_samples", "telemetry.0007_partition_functions"}
    assert python_only <= touching.keys() and not any(walked[n]["statements"] for n in python_only)
    print("migrations touching telemetry_* tables:", *sorted(touching), sep="\n  ")
    assert "telemetry_sample" in touching["telemetry.0001_initial"]["changed"]
    assert "telemetry_sample_default" in touching["telemetry.0002_partition_samples"]["changed"]


def test_no_migration_rewrites_a_telemetry_table_or_loses_a_stored_value(walked):
    offenders = {
        name: {
            "rewritten": entry["rewritten"],
            "rows_lost": entry["rows_lost"],
            "sql": entry["sql"],
        }
        for name, entry in project(walked).items()
        if name not in EXEMPT and (entry["rewritten"] or entry["rows_lost"])
    }
    assert offenders == {}, (
        "these migrations rewrite a telemetry table, which locks ingest for as long as "
        "copying every value takes (docs/operations.md, Upgrading): "
        + json.dumps(offenders, indent=1)
    )


def test_the_exemptions_name_migrations_that_exist_and_still_need_them(walked):
    for name in EXEMPT:
        assert name in walked, f"{name} is exempt but no longer exists: drop it from EXEMPT"
        assert walked[name]["rewritten"] or walked[name]["rows_lost"], name


def test_the_walk_catches_what_postgresql_rewrites_and_passes_what_it_does_not(walked):
    changed_type = walked["telemetry.9001_sample_value_numeric"]
    # the partitioned parent has no storage; every partition holding values is rewritten
    assert "telemetry_sample_default" in changed_type["rewritten"]
    assert any("ALTER COLUMN" in sql and "TYPE" in sql for sql in changed_type["sql"])
    assert walked["telemetry.9002_rollup_volatile_default"]["rewritten"] == ["telemetry_rollup"]
    for cheap in (
        "9003_rollup_constant_default",
        "9004_rollup_now_default",
        "9005_sample_nullable_column",
    ):
        entry = walked[f"telemetry.{cheap}"]
        assert entry["sql"] and entry["changed"], cheap
        assert (entry["rewritten"], entry["rows_lost"]) == ([], 0), cheap
