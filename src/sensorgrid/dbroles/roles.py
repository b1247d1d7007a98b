"""The SQL of the three database roles: owner, application, reporting.

- The **owner** owns the database, its schemas, tables and the partition functions; it
  runs ``sensorgrid migrate``. Nothing else needs it.
- The **application** role is what ``serve``, ``ingest`` and ``worker`` connect as: it
  reads and writes rows (SELECT, INSERT, UPDATE, DELETE, sequences, its batch writer's
  TEMPORARY staging table) and cannot CREATE, ALTER, DROP or TRUNCATE anything. Sample
  partitions are made through two SECURITY DEFINER functions of the owner (telemetry
  migration 0007) that it may EXECUTE.
- The **reporting** role (no login) reads the ``reporting`` schema's views only; each of
  its logins is bound to one organization (sensorgrid.dbroles.reporting).

Default privileges make every table, sequence, function and view that a later migration
creates (as the owner) come with the same grants. The statements can be run again: roles
are created when missing, grants are repeated. Names are checked here and quoted; a
password is never printed, only sent with ``--apply``.
"""

import re
from dataclasses import dataclass

from sensorgrid.dbroles.reporting import SCHEMA

NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class RoleNameError(ValueError):
    """A role name that is not a plain lower-case PostgreSQL identifier."""


def ident(name: str) -> str:
    if not NAME.match(name):
        raise RoleNameError(
            f"{name!r} is not a role name this command accepts: lower-case letters, digits and "
            "underscores, starting with a letter or underscore, at most 63 characters"
        )
    return f'"{name}"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


OWNER, APP, REPORTING = "sensorgrid_owner", "sensorgrid_app", "sensorgrid_reporting"


@dataclass(frozen=True, slots=True)
class Roles:
    owner: str = OWNER
    app: str = APP
    reporting: str = REPORTING


def create_role(name: str, *, login: bool) -> str:
    options = "LOGIN" if login else "NOLOGIN"
    return (
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {literal(name)}) "
        f"THEN CREATE ROLE {ident(name)} {options}; END IF; END $$"
    )


def password(name: str, secret: str) -> str:
    return f"ALTER ROLE {ident(name)} PASSWORD {literal(secret)}"


def setup_sql(roles: Roles, database: str) -> list[str]:
    """Roles, ownership and grants; run by a superuser (or a role with CREATEROLE that
    may hand the database over), before or after ``migrate``."""
    owner, app, reporting = ident(roles.owner), ident(roles.app), ident(roles.reporting)
    db = f'"{database.replace(chr(34), chr(34) * 2)}"'
    schemas = f"'public', {literal(SCHEMA)}"
    return [
        create_role(roles.owner, login=True),
        create_role(roles.app, login=True),
        create_role(roles.reporting, login=False),
        # The owner owns the database and both schemas, and everything already in them
        # (an install that migrated as another role before the roles existed).
        f"ALTER DATABASE {db} OWNER TO {owner}",
        f"ALTER SCHEMA public OWNER TO {owner}",
        f"CREATE SCHEMA IF NOT EXISTS {SCHEMA} AUTHORIZATION {owner}",
        f"ALTER SCHEMA {SCHEMA} OWNER TO {owner}",
        f"""DO $$ DECLARE object record; BEGIN
    FOR object IN
        SELECT CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
                    WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END AS kind,
               n.nspname AS schema_name, c.relname AS name
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname IN ({schemas}) AND c.relkind IN ('r', 'p', 'S', 'v', 'm')
          AND c.relowner <> {literal(roles.owner)}::regrole
          AND NOT (c.relkind = 'S' AND EXISTS (SELECT FROM pg_depend d
                   WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')))
    LOOP
        EXECUTE format('ALTER %s %I.%I OWNER TO %I', object.kind, object.schema_name,
                       object.name, {literal(roles.owner)});
    END LOOP;
    FOR object IN
        SELECT p.oid::regprocedure AS signature FROM pg_proc p
        JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'public' AND p.proname LIKE 'sensorgrid\\_%'
          AND p.proowner <> {literal(roles.owner)}::regrole
    LOOP
        EXECUTE format('ALTER FUNCTION %s OWNER TO %I', object.signature, {literal(roles.owner)});
    END LOOP;
END $$""",
        # Nobody connects or creates anything unless granted here.
        f"REVOKE ALL ON DATABASE {db} FROM PUBLIC",
        f"GRANT CONNECT, TEMPORARY ON DATABASE {db} TO {app}",
        f"GRANT CONNECT ON DATABASE {db} TO {reporting}",
        "REVOKE ALL ON SCHEMA public FROM PUBLIC",
        f"REVOKE ALL ON SCHEMA {SCHEMA} FROM PUBLIC",
        # The application: rows, not structure.
        f"GRANT USAGE ON SCHEMA public TO {app}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {app}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {app}",
        f"GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO {app}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {app}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
        f"GRANT USAGE, SELECT ON SEQUENCES TO {app}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
        f"GRANT EXECUTE ON FUNCTIONS TO {app}",
        # Reporting: the views of its schema, nothing in public.
        f"GRANT USAGE ON SCHEMA {SCHEMA} TO {reporting}",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA {SCHEMA} TO {reporting}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {SCHEMA} "
        f"GRANT SELECT ON TABLES TO {reporting}",
    ]


def reporting_login_sql(roles: Roles, login: str, organization_slug: str) -> list[str]:
    """A login of the reporting role that sees one organization's rows (after migrate)."""
    return [
        create_role(login, login=True),
        f"GRANT {ident(roles.reporting)} TO {ident(login)}",
        f"INSERT INTO dbroles_reportinglogin (login, organization_id, created_at) "
        f"SELECT {literal(login)}, o.id, now() FROM tenancy_organization o "
        f"WHERE o.slug = {literal(organization_slug)} "
        f"ON CONFLICT (login) DO UPDATE SET organization_id = EXCLUDED.organization_id",
    ]
