"""Least-privilege database roles, as docs/deployment.md sets them up, on a real server.

A throwaway database and roles with a unique suffix: `sensorgrid dbroles --apply` as the
superuser, `sensorgrid migrate` as the owner, the application's work (ingest through the
pipeline, partitions made and dropped, alerts) as the application role, and two reporting
logins bound to two organizations. Each role is then held to what it may do and refused
what it may not: the application no DDL, the reporting logins only their organization's
rows of the documented views and nothing else. Everything is dropped at the end.
"""

import json
import os
import re
import secrets
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from psycopg import errors

from sensorgrid.dbroles.reporting import VIEWS
from tests.support.commands import Sensorgrid

DATABASE = settings.DATABASES["default"]
pytestmark = [
    pytest.mark.deploy,
    pytest.mark.skipif(
        not DATABASE["ENGINE"].endswith("postgresql"),
        reason="database roles exist on PostgreSQL only: tested in the PostgreSQL pass",
    ),
]


# Run as the application role (`sensorgrid shell -c`): two organizations with a site, a
# room, an installed node, values ingested through the pipeline and an alert each; then the
# partition maintenance the worker and `sensorgrid prune` do.
APPLICATION_WORK = """
import json
from datetime import UTC, date, datetime, timedelta
from django.db import connection
from django.utils import timezone
from sensorgrid.alerts.models import Alert, AlertRule
from sensorgrid.ingest import pipeline
from sensorgrid.ingest.envelope import Authority, Envelope
from sensorgrid.inventory.models import Installation, Node, Quantity, Room, Site
from sensorgrid.telemetry import partitions
from sensorgrid.telemetry.models import Sample
from sensorgrid.tenancy.models import Organization

SUFFIX = {suffix!r}
co2 = Quantity.objects.get(key="co2")
now = timezone.now()
orgs = {{}}
for letter in "ab":
    org = Organization.objects.create(name=f"Org {{letter}}", slug=f"org-{{letter}}-{{SUFFIX}}")
    site = Site.objects.create(organization=org, name=f"site {{letter}}")
    room = Room.objects.create(site=site, name=f"room {{letter}}")
    node = Node.objects.create(organization=org, device_id=f"dev-{{letter}}-{{SUFFIX}}")
    Installation.objects.create(node=node, room=room, start=now - timedelta(days=1))
    readings = [
        {{"device": node.device_id, "ts": (now - timedelta(minutes=m)).isoformat(),
          "values": {{"co2": 400 + m, "temperature": 21.5}}}}
        for m in (1, 2, 3)
    ]
    outcome = pipeline.ingest(
        Envelope("http", "/api/v1/ingest/", json.dumps(readings).encode(), now,
                 "application/json", Authority(org.pk)),
        "json",
    )
    rule = AlertRule.objects.create(organization=org, name=f"rule {{letter}}", kind="threshold",
                                   quantity=co2, params={{"above": 1000}})
    Alert.objects.create(organization=org, rule=rule, node=node, quantity=co2,
                         severity="warning", message=f"CO2 high in room {{letter}}",
                         started_at=now, opened_at=now)
    orgs[letter] = {{"id": org.pk, "slug": org.slug, "device": node.device_id,
                    "accepted": outcome.accepted, "rejected": len(outcome.rejected)}}

def partition_of(ts):
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text FROM telemetry_sample WHERE ts = %s", [ts])
        return cursor.fetchone()[0]

node = Node.objects.get(device_id=orgs["a"]["device"])
# A value for a month without a partition lands in the default one; making the month
# moves it over.
early = datetime(2033, 3, 9, 12, tzinfo=UTC)
Sample.objects.create(node=node, quantity=co2, ts=early, value=1.0)
before = partition_of(early)
made = partitions.ensure(back=0, ahead=1, today=date(2033, 3, 9))
after = partition_of(early)
old = partitions.ensure(back=0, ahead=0, today=date(2019, 1, 5))
dropped = partitions.drop_before(datetime(2019, 2, 1, tzinfo=UTC))
Sample.objects.filter(ts=early).delete()
print(json.dumps({{"orgs": orgs, "before": before, "made": made, "after": after, "old": old,
                  "dropped": dropped, "user": connection.get_connection_params()["user"]}}))
"""


@dataclass(frozen=True, slots=True)
class Install:
    name: str
    owner: str
    app: str
    reporting: str
    logins: dict[str, str]  # organization letter -> reporting login
    work: dict[str, Any]  # what APPLICATION_WORK printed
    password: str  # of every role made here, from the password files

    def connect(self, role: str) -> psycopg.Connection[Any]:
        return psycopg.connect(
            dbname=self.name,
            user=role,
            password=self.password,
            host=DATABASE["HOST"] or None,
            port=DATABASE["PORT"] or None,
            autocommit=True,
        )


def url(role: str, name: str, password: str | None = None) -> str:
    """A database URL; without ``password``, the superuser's of the test settings."""
    host = DATABASE["HOST"] or "127.0.0.1"
    secret = password if password is not None else DATABASE["PASSWORD"]
    login = f"{role}:{secret}" if secret else role
    return f"postgres://{login}@{host}:{DATABASE['PORT'] or 5432}/{name}"


def superuser() -> psycopg.Connection[Any]:
    return psycopg.connect(
        dbname="postgres",
        user=DATABASE["USER"] or None,
        password=DATABASE["PASSWORD"] or None,
        host=DATABASE["HOST"] or None,
        port=DATABASE["PORT"] or None,
        autocommit=True,
    )


@pytest.fixture(scope="module")
def install(tmp_path_factory) -> Iterator[Install]:
    suffix = secrets.token_hex(4)
    name = f"sg_dbroles_{suffix}"
    owner, app, reporting = f"sg_owner_{suffix}", f"sg_app_{suffix}", f"sg_reporting_{suffix}"
    logins = {"a": f"grafana_a_{suffix}", "b": f"grafana_b_{suffix}"}
    directory = tmp_path_factory.mktemp("dbroles")
    commands = Sensorgrid(
        sys.executable,
        {
            **{k: v for k, v in os.environ.items() if not k.startswith("SENSORGRID_")},
            "SENSORGRID_VAR_DIR": str(directory),
            "SENSORGRID_LOG_QUIET": "1",
        },
        Path(directory),
    )
    role_names = ("--owner", owner, "--app", app, "--reporting", reporting)
    admin = superuser()
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        secret = f"pw-{secrets.token_hex(8)}"
        password = directory / "role.pw"
        password.write_text(f"{secret}\n")
        commands.run(
            "dbroles",
            "--apply",
            "--database-url",
            url(DATABASE["USER"], name),
            *role_names,
            "--owner-password-file",
            str(password),
            "--app-password-file",
            str(password),
        )
        commands.run(
            "migrate", "--no-input", "-v0", SENSORGRID_DATABASE_URL=url(owner, name, secret)
        )
        done = commands.run(
            "shell",
            "-c",
            APPLICATION_WORK.format(suffix=suffix),
            SENSORGRID_DATABASE_URL=url(app, name, secret),
        )
        work = json.loads(done.stdout.strip().splitlines()[-1])
        for letter, login in logins.items():
            commands.run(
                "dbroles",
                "--apply",
                "--database-url",
                url(DATABASE["USER"], name),
                *role_names,
                "--reporting-login",
                login,
                "--organization",
                work["orgs"][letter]["slug"],
                "--password-file",
                str(password),
            )
        # Running the printed SQL again (as an operator would with psql) changes nothing
        # that the tests below see: the statements are valid and can be repeated.
        printed = commands.run(
            "dbroles", "--print", "--database-url", url(DATABASE["USER"], name), *role_names
        ).stdout
        with psycopg.connect(
            dbname=name,
            user=DATABASE["USER"],
            password=DATABASE["PASSWORD"] or None,
            host=DATABASE["HOST"] or None,
            port=DATABASE["PORT"] or None,
            autocommit=True,
        ) as again:
            again.execute(printed.encode())
        yield Install(name, owner, app, reporting, logins, work, secret)
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        for role in (*logins.values(), reporting, app, owner):
            admin.execute(f'DROP ROLE IF EXISTS "{role}"')
        admin.close()


def refused(
    connection: psycopg.Connection[Any],
    statement: str,
    *also: type[psycopg.Error],
) -> bool:
    """True when ``statement`` fails for lack of a privilege (or ownership), or ``also``."""
    try:
        connection.execute(statement)
    except (errors.InsufficientPrivilege, *also):
        return True
    return False


def test_the_application_role_ingests_and_maintains_partitions_through_the_owner(install):
    work = install.work
    assert work["user"] == install.app
    for org in work["orgs"].values():
        assert (org["accepted"], org["rejected"]) == (6, 0)
    assert work["before"] == "telemetry_sample_default"
    assert work["made"] == ["telemetry_sample_203303", "telemetry_sample_203304"]
    assert work["after"] == "telemetry_sample_203303"
    assert (work["old"], work["dropped"]) == (["telemetry_sample_201901"], work["old"])
    with install.connect(install.owner) as owner:
        owners = owner.execute(
            "SELECT DISTINCT relowner::regrole::text FROM pg_class WHERE relname LIKE "
            "'telemetry_sample_%' OR relname IN ('inventory_node', 'telemetry_latest')"
        ).fetchall()
    assert owners == [(install.owner,)]


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE TABLE sneaky (id int)",
        "CREATE TABLE reporting.sneaky (id int)",
        "CREATE SCHEMA sneaky",
        "CREATE VIEW sneaky AS SELECT 1",
        "ALTER TABLE inventory_node ADD COLUMN sneaky int",
        "ALTER TABLE telemetry_sample DETACH PARTITION telemetry_sample_default",
        "DROP TABLE dbroles_reportinglogin",
        "DROP VIEW reporting.measurements",
        "TRUNCATE telemetry_sample",
        "TRUNCATE tenancy_organization CASCADE",
        "CREATE INDEX sneaky ON inventory_node (alias)",
    ],
)
def test_the_application_role_cannot_change_the_structure(install, statement):
    with install.connect(install.app) as app:
        assert refused(app, statement)
        assert app.execute("SELECT count(*) FROM inventory_node").fetchone() == (2,)


def test_tables_a_later_migration_creates_come_with_the_applications_grants(install):
    with install.connect(install.owner) as owner:
        owner.execute("CREATE TABLE later_migration (id bigint GENERATED BY DEFAULT AS IDENTITY)")
    try:
        with install.connect(install.app) as app:
            app.execute("INSERT INTO later_migration DEFAULT VALUES")
            assert app.execute("SELECT count(*) FROM later_migration").fetchone() == (1,)
            assert refused(app, "DROP TABLE later_migration")
    finally:
        with install.connect(install.owner) as owner:
            owner.execute("DROP TABLE later_migration")


def test_each_reporting_login_sees_its_organization_in_every_view_and_nothing_else(install):
    orgs = install.work["orgs"]
    for letter, login in install.logins.items():
        mine, theirs = orgs[letter], orgs["b" if letter == "a" else "a"]
        with install.connect(login) as connection:
            for view in VIEWS:
                cursor = connection.execute(f"SELECT * FROM reporting.{view}")
                columns = [column.name for column in cursor.description or []]
                rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
                assert rows, f"{login} sees nothing in reporting.{view}"
                assert {row["organization_id"] for row in rows} == {mine["id"]}, view
                assert theirs["device"] not in repr(rows)
            measurements = connection.execute(
                "SELECT quantity, count(*), min(room_id) IS NOT NULL FROM reporting.measurements "
                "GROUP BY quantity ORDER BY quantity"
            ).fetchall()
            assert measurements == [("co2", 3, True), ("temperature", 3, True)]
            latest = connection.execute(
                "SELECT device_id, quantity, value FROM reporting.latest_values WHERE "
                "quantity = 'co2'"
            ).fetchall()
            assert latest == [(mine["device"], "co2", 401.0)]


def test_a_reporting_login_cannot_read_tables_or_write_anything(install):
    with install.connect(install.logins["a"]) as connection:
        for table in ("telemetry_sample", "inventory_node", "dbroles_reportinglogin"):
            assert refused(connection, f"SELECT * FROM public.{table} LIMIT 1"), table
        # A view over joins refuses a write whatever the grants; the grants refuse it too.
        not_updatable = errors.ObjectNotInPrerequisiteState
        assert refused(
            connection, "INSERT INTO reporting.organizations VALUES (99, 'x', 'x')", not_updatable
        )
        assert refused(connection, "UPDATE reporting.nodes SET alias = 'x'", not_updatable)
        assert refused(connection, "DELETE FROM reporting.alerts", not_updatable)
        granted = connection.execute(
            "SELECT v, p FROM unnest(%s::text[]) v, unnest(%s::text[]) p "
            "WHERE has_table_privilege('reporting.' || v, p)",
            [list(VIEWS), ["INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"]],
        ).fetchall()
        assert granted == []
        assert connection.execute(
            "SELECT bool_and(has_table_privilege('reporting.' || v, 'SELECT')) "
            "FROM unnest(%s::text[]) v",
            [list(VIEWS)],
        ).fetchone() == (True,)
        assert refused(connection, "CREATE TABLE reporting.sneaky (id int)")
        assert refused(connection, "CREATE TABLE public.sneaky (id int)")
        assert refused(connection, "CREATE TEMPORARY TABLE sneaky (id int)")
        assert refused(
            connection, "SELECT public.sensorgrid_create_sample_partition('2040-01-01'::date)"
        )
        assert refused(connection, f'SET ROLE "{install.app}"')


def test_a_login_bound_to_no_organization_sees_no_row(install):
    login = f"{install.reporting}_stray"
    admin = superuser()
    try:
        # as `dbroles --reporting-login` makes one, minus the binding to an organization
        admin.execute(
            f"CREATE ROLE \"{login}\" LOGIN PASSWORD '{install.password}' "
            f'IN ROLE "{install.reporting}"'
        )
        with install.connect(login) as connection:
            for view in VIEWS:
                assert connection.execute(f"SELECT count(*) FROM reporting.{view}").fetchone() == (
                    0,
                ), view
    finally:
        admin.execute(f'DROP ROLE IF EXISTS "{login}"')
        admin.close()


def test_the_example_query_of_the_reporting_docs_runs_as_a_reporting_login(install):
    page = (Path(__file__).resolve().parents[2] / "docs" / "reporting.md").read_text()
    (query,) = re.findall(r"```sql\n(.*?)```", page, re.DOTALL)
    with install.connect(install.logins["a"]) as connection:
        rows = connection.execute(query).fetchall()
    assert rows and {metric for _, metric, _ in rows} == {"room a"}


def test_the_password_files_set_the_roles_passwords(install):
    admin = superuser()
    try:
        rows = admin.execute(
            "SELECT rolname, rolpassword IS NOT NULL, rolcanlogin FROM pg_authid "
            "WHERE rolname = ANY(%s) ORDER BY rolname",
            [[*install.logins.values(), install.owner, install.app, install.reporting]],
        ).fetchall()
    finally:
        admin.close()
    assert rows == sorted(
        [(login, True, True) for login in (*install.logins.values(), install.owner, install.app)]
        + [(install.reporting, False, False)]
    )


def test_applying_the_roles_to_an_install_migrated_as_another_role_hands_it_to_the_owner(
    tmp_path,
):
    """An existing install: tables, views, partitions and functions made by the superuser."""
    suffix = secrets.token_hex(4)
    name = f"sg_dbroles_{suffix}"
    owner, app, reporting = f"sg_owner_{suffix}", f"sg_app_{suffix}", f"sg_reporting_{suffix}"
    commands = Sensorgrid(
        sys.executable,
        {
            **{k: v for k, v in os.environ.items() if not k.startswith("SENSORGRID_")},
            "SENSORGRID_VAR_DIR": str(tmp_path),
        },
        tmp_path,
    )
    admin = superuser()
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        commands.run(
            "migrate", "--no-input", "-v0", SENSORGRID_DATABASE_URL=url(DATABASE["USER"], name)
        )
        secret = f"pw-{secrets.token_hex(8)}"
        (tmp_path / "role.pw").write_text(secret)
        commands.run(
            "dbroles",
            "--apply",
            "--database-url",
            url(DATABASE["USER"], name),
            "--owner",
            owner,
            "--app",
            app,
            "--reporting",
            reporting,
            "--app-password-file",
            str(tmp_path / "role.pw"),
        )
        install = Install(name, owner, app, reporting, {}, {}, secret)
        with psycopg.connect(
            dbname=name,
            user=DATABASE["USER"],
            password=DATABASE["PASSWORD"] or None,
            host=DATABASE["HOST"] or None,
            port=DATABASE["PORT"] or None,
        ) as connection:
            strays = connection.execute(
                "SELECT n.nspname, c.relname FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname IN ('public', 'reporting') AND c.relkind IN ('r', 'p', 'S', 'v') "
                "AND c.relowner <> %s::regrole "
                "UNION ALL SELECT 'function', proname FROM pg_proc "
                "WHERE proname LIKE 'sensorgrid\\_%%' AND proowner <> %s::regrole",
                [owner, owner],
            ).fetchall()
            views = connection.execute(
                "SELECT count(*) FROM pg_views WHERE schemaname = 'reporting'"
            ).fetchone()
        assert strays == []
        assert views == (len(VIEWS),)
        with install.connect(app) as connection:
            made = connection.execute("SELECT sensorgrid_create_sample_partition('2035-01-01')")
            assert made.fetchone() == (True,)
            assert connection.execute(
                "SELECT count(*) FROM telemetry_sample_203501"
            ).fetchone() == (0,)
            assert refused(connection, "DROP TABLE telemetry_sample_203501")
            assert refused(connection, "TRUNCATE inventory_node")
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        for role in (reporting, app, owner):
            admin.execute(f'DROP ROLE IF EXISTS "{role}"')
        admin.close()


def test_a_reporting_login_for_an_unknown_organization_is_refused_and_not_created(install):
    login = f"{install.reporting}_nobody"
    with pytest.raises(CommandError, match="no organization has the slug 'no-such-org'"):
        call_command(
            "dbroles",
            "--apply",
            "--database-url",
            url(DATABASE["USER"], install.name),
            "--reporting",
            install.reporting,
            "--reporting-login",
            login,
            "--organization",
            "no-such-org",
        )
    admin = superuser()
    try:
        assert admin.execute("SELECT FROM pg_roles WHERE rolname = %s", [login]).fetchall() == []
    finally:
        admin.close()
