"""Backup and restore as docs/operations.md prints them, on a real server.

A throwaway install (its own database names, dropped at the end) gets two nodes' values
through the ingest pipeline in five past months: three with their own partition, two in
the default partition. The documented `pg_dump` and `pg_restore` lines run as printed, with
this test's database names, and the restored database must answer exactly as the original:
every table's row count, the rows of each partition, the rollups and the time-series API
(daily, hourly and raw). The restored install then keeps working: the partition functions
make a new month and the pipeline stores new values.
"""

import json
import os
import re
import secrets
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.conf import settings

from tests.support.commands import Sensorgrid

DATABASE = settings.DATABASES["default"]
ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "operations.md"
pytestmark = [
    pytest.mark.deploy,
    pytest.mark.skipif(
        not DATABASE["ENGINE"].endswith("postgresql"),
        reason="pg_dump and pg_restore back up PostgreSQL: tested in the PostgreSQL pass",
    ),
]

# Months back from now: 5 and 4 have no partition (default partition), 3..1 have one.
FILL = """
import json
from datetime import UTC, datetime, timedelta
from django.utils import timezone
from sensorgrid.ingest import pipeline
from sensorgrid.ingest.envelope import Authority, Envelope
from sensorgrid.telemetry import partitions
from tests import factories as f

def month_start(back):
    now = timezone.now()
    index = now.year * 12 + now.month - 1 - back
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)

made = partitions.ensure(back=3, ahead=1)
org = f.OrganizationFactory(name="Backup city", slug="backup-city")
user = f.UserFactory(username="restorer")
f.MembershipFactory(user=user, organization=org, role="OWNER")
room = f.RoomFactory(site=f.SiteFactory(organization=org))
nodes = [f.NodeFactory(organization=org, device_id=f"backup-{i}") for i in (1, 2)]
for node in nodes:
    f.InstallationFactory(node=node, room=room, start=month_start(6))
accepted = 0
for back in (5, 4, 3, 2, 1):
    envelopes = []
    for node in nodes:
        for day in range(3):
            readings = [
                {"device": node.device_id,
                 "ts": (month_start(back) + timedelta(days=day, hours=h, minutes=7)).isoformat(),
                 "values": {"co2": 400 + 10 * back + h + node.pk, "temperature": 18 + h / 4,
                            "no-such-quantity": 1}}
                for h in range(24)
            ]
            envelopes.append(Envelope("http", "/api/v1/ingest/", json.dumps(readings).encode(),
                                      timezone.now(), "application/json", Authority(org.pk)))
    accepted += sum(o.accepted for o in pipeline.ingest_many(envelopes, "json").outcomes)
print(json.dumps({"made": made, "accepted": accepted, "nodes": [n.pk for n in nodes],
                  "from": month_start(5).isoformat(), "to": month_start(0).isoformat(),
                  "hourly_from": month_start(2).isoformat(),
                  "raw_from": month_start(1).isoformat()}))
"""

# What a user of each database sees; run on the original and on the restored one.
LOOK = """
import json
from django.db import connection
from rest_framework.test import APIClient
from sensorgrid.tenancy.models import User

fill = json.loads({fill!r})
with connection.cursor() as cursor:
    cursor.execute("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                   "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1")
    counts = {{}}
    for (table,) in cursor.fetchall():
        cursor.execute(f'SELECT count(*) FROM "{{table}}"')
        counts[table] = cursor.fetchone()[0]
    cursor.execute("SELECT tableoid::regclass::text, count(*) FROM telemetry_sample "
                   "GROUP BY 1 ORDER BY 1")
    partitions = cursor.fetchall()
    cursor.execute("SELECT node_id, quantity_id, resolution, bucket::text, count, sum, min, max "
                   "FROM telemetry_rollup ORDER BY 1, 2, 3, 4")
    rollups = cursor.fetchall()
client = APIClient()
client.force_authenticate(User.objects.get(username="restorer"))
series = {{}}
for node in fill["nodes"]:
    for bucket, start, days in (("1d", fill["from"], None), ("1h", fill["hourly_from"], 4),
                                ("raw", fill["raw_from"], 1)):
        query = {{"quantity": "co2,temperature", "bucket": bucket, "from": start[:10]}}
        if days:
            query["to"] = f"{{start[:8]}}{{1 + days:02d}}"
        else:
            query["to"] = fill["to"][:10]
        answer = client.get(f"/api/v1/nodes/{{node}}/timeseries/", query, HTTP_HOST="localhost")
        series[f"{{node}} {{bucket}}"] = [answer.status_code, answer.json()]
print(json.dumps({{"counts": counts, "partitions": partitions, "rollups": rollups,
                  "series": series}}))
"""

# The restored install at work: a partition through its functions, values through the pipeline.
WORK = """
import json
from datetime import date
from django.utils import timezone
from sensorgrid.ingest import pipeline
from sensorgrid.ingest.envelope import Authority, Envelope
from sensorgrid.inventory.models import Node
from sensorgrid.telemetry import partitions
from sensorgrid.telemetry.models import Sample
from tests import factories as f

made = partitions.ensure(back=0, ahead=0, today=date(2039, 6, 15))
org = f.OrganizationFactory(name="After restore")
node = f.NodeFactory(organization=org, device_id="after-restore")
reading = {"device": node.device_id, "ts": timezone.now().isoformat(), "values": {"co2": 555}}
outcome = pipeline.ingest(Envelope("http", "/api/v1/ingest/", json.dumps(reading).encode(),
                                   timezone.now(), "application/json", Authority(org.pk)), "json")
print(json.dumps({"made": made, "accepted": outcome.accepted,
                  "stored": Sample.objects.filter(node_id=node.pk).count(),
                  "nodes": Node.objects.count()}))
"""


def documented_commands() -> list[str]:
    """The pg_dump, pg_dumpall, createdb and pg_restore lines of "Backup and restore"."""
    section = DOCS.read_text().split("## Backup and restore", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.DOTALL)
    lines = [line.strip() for block in blocks for line in block.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def superuser() -> psycopg.Connection[Any]:
    return psycopg.connect(
        dbname="postgres",
        user=DATABASE["USER"] or None,
        password=DATABASE["PASSWORD"] or None,
        host=DATABASE["HOST"] or None,
        port=DATABASE["PORT"] or None,
        autocommit=True,
    )


def database_url(name: str) -> str:
    login = (
        f"{DATABASE['USER']}:{DATABASE['PASSWORD']}" if DATABASE["PASSWORD"] else DATABASE["USER"]
    )
    return f"postgres://{login}@{DATABASE['HOST'] or '127.0.0.1'}:{DATABASE['PORT'] or 5432}/{name}"


@pytest.fixture(scope="module")
def restored(tmp_path_factory) -> dict[str, Any]:
    suffix = secrets.token_hex(4)
    original, copy = f"sg_backup_{suffix}", f"sg_backup_{suffix}_restored"
    directory = tmp_path_factory.mktemp("backup")
    commands = Sensorgrid(
        sys.executable,
        {
            **{k: v for k, v in os.environ.items() if not k.startswith("SENSORGRID_")},
            "SENSORGRID_VAR_DIR": str(directory),
            "SENSORGRID_LOG_QUIET": "1",
            "PYTHONPATH": str(ROOT),
        },
        directory,
    )
    admin = superuser()
    admin.execute(f'CREATE DATABASE "{original}"')
    try:
        at = {"SENSORGRID_DATABASE_URL": database_url(original)}
        commands.run("migrate", "--no-input", "-v0", **at)
        fill = commands.run("shell", "-c", FILL, **at).stdout.strip().splitlines()[-1]
        look = LOOK.format(fill=fill)
        before = json.loads(commands.run("shell", "-c", look, **at).stdout.splitlines()[-1])

        environment = {
            **os.environ,
            "PGHOST": DATABASE["HOST"] or "127.0.0.1",
            "PGPORT": str(DATABASE["PORT"] or 5432),
            "PGUSER": DATABASE["USER"],
            "PGPASSWORD": DATABASE["PASSWORD"] or "",
        }
        ran = []
        for line in documented_commands():
            # this test's database names; the owner of the copy is this server's superuser
            line = re.sub(r"\bsensorgrid_restored\b", copy, line)
            line = re.sub(r"\bsensorgrid_owner\b", DATABASE["USER"], line)
            line = re.sub(r" sensorgrid$", f" {original}", line)
            done = subprocess.run(
                line, shell=True, cwd=directory, env=environment, capture_output=True, text=True
            )
            assert done.returncode == 0, (line, done.stderr[-2000:])
            ran.append(shlex.split(line)[0])

        at = {"SENSORGRID_DATABASE_URL": database_url(copy)}
        after = json.loads(commands.run("shell", "-c", look, **at).stdout.splitlines()[-1])
        work = json.loads(commands.run("shell", "-c", WORK, **at).stdout.splitlines()[-1])
        roles = (directory / "sensorgrid-roles.sql").read_text()
        yield {
            "fill": json.loads(fill),
            "before": before,
            "after": after,
            "work": work,
            "ran": ran,
            "roles": roles,
        }
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
        admin.execute(f'DROP DATABASE IF EXISTS "{original}" WITH (FORCE)')
        admin.close()


def test_the_documented_commands_ran(restored):
    assert restored["ran"] == ["pg_dump", "pg_dumpall", "createdb", "pg_restore"]
    assert f"CREATE ROLE {DATABASE['USER']};" in restored["roles"]


def test_the_install_held_values_in_several_partitions_and_the_default_one(restored):
    fill, partitions = restored["fill"], dict(restored["before"]["partitions"])
    # 2 nodes x 2 quantities x 3 days x 24 hours in each of 5 months; the unknown
    # quantity of every message became a dead letter
    assert fill["accepted"] == 2 * 2 * 3 * 24 * 5
    assert partitions["telemetry_sample_default"] == 2 * 2 * 3 * 24 * 2
    monthly = {name: n for name, n in partitions.items() if name != "telemetry_sample_default"}
    assert sorted(monthly.values()) == [2 * 2 * 3 * 24] * 3
    assert restored["before"]["counts"]["telemetry_deadletter"] > 0


def test_every_table_and_partition_has_the_same_rows_after_the_restore(restored):
    before, after = restored["before"], restored["after"]
    assert after["counts"] == before["counts"]
    assert after["partitions"] == before["partitions"]


def test_the_rollups_are_identical(restored):
    before, after = restored["before"]["rollups"], restored["after"]["rollups"]
    assert len(before) > 2 * 2 * 3 * 24 * 5
    assert after == before


def test_the_timeseries_api_answers_the_same(restored):
    before, after = restored["before"]["series"], restored["after"]["series"]
    for key, (status, answer) in before.items():
        assert status == 200, (key, answer)
        points = [len(series["points"]) for series in answer["series"]]
        expected = {"1d": 15, "1h": 72, "raw": 24}[key.split()[1]]
        assert points == [expected, expected], key
    assert after == before


def test_the_restored_install_makes_partitions_and_stores_values(restored):
    work = restored["work"]
    assert work["made"] == ["telemetry_sample_203906"]
    assert (work["accepted"], work["stored"]) == (1, 1)
