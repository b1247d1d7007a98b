"""The ``reporting`` schema: the views Grafana and BI tools read, one organization each.

The reporting role (``sensorgrid dbroles``) may read these views and nothing else: no
table, no other schema. Each view keeps the rows of the organization that the connected
login is bound to in ``dbroles_reportinglogin``, by ``session_user`` (the login that
authenticated; ``SET ROLE`` cannot change it). A view runs with its owner's rights, so
the login needs no grant on the tables behind it, and ``security_barrier`` keeps a
login's own conditions (a function that raises on what it sees, say) from running
before that filter. Row-level security policies on the tables would do the same, but on
the ingest path's tables, for every role; the views touch nothing the application does.

The views are dropped before each ``migrate`` and created after it (apps.py), so a
migration may change any column without meeting a view that depends on it, and the
views always read the tables as they are. Their columns are documented in
docs/reporting.md; tests/deploy/test_dbroles.py reads every view as two organizations.
"""

from typing import Any

from django.db import connections

SCHEMA = "reporting"

# Rows of the organization the connected login is bound to, and no other.
MINE = (
    "organization_id IN (SELECT r.organization_id FROM dbroles_reportinglogin r "
    "WHERE r.login = session_user)"
)

# name -> SELECT; each has an organization_id column that MINE filters on.
VIEWS: dict[str, str] = {
    "organizations": """
        SELECT o.id AS organization_id, o.slug, o.name
        FROM tenancy_organization o
    """,
    "sites": """
        SELECT s.id AS site_id, s.organization_id, s.name, s.address, s.latitude, s.longitude
        FROM inventory_site s
    """,
    "rooms": """
        SELECT r.id AS room_id, r.site_id, s.organization_id, r.name AS name,
               s.name AS site, r.area, r.height, r.max_occupancy
        FROM inventory_room r JOIN inventory_site s ON s.id = r.site_id
    """,
    "nodes": """
        SELECT n.id AS node_id, n.organization_id, n.device_id, n.alias,
               m.name AS model, n.status, n.status_since, n.last_seen,
               i.room_id, r.site_id
        FROM inventory_node n
        LEFT JOIN inventory_nodemodel m ON m.id = n.model_id
        LEFT JOIN inventory_installation i
            ON i.node_id = n.id AND i.start <= now() AND (i."end" IS NULL OR i."end" > now())
        LEFT JOIN inventory_room r ON r.id = i.room_id
    """,
    "measurements": """
        SELECT x.ts, x.node_id, n.organization_id, n.device_id, q.key AS quantity,
               q.unit, x.value, i.room_id, r.site_id
        FROM telemetry_sample x
        JOIN inventory_node n ON n.id = x.node_id
        JOIN inventory_quantity q ON q.id = x.quantity_id
        LEFT JOIN inventory_installation i
            ON i.node_id = x.node_id AND i.start <= x.ts AND (i."end" IS NULL OR i."end" > x.ts)
        LEFT JOIN inventory_room r ON r.id = i.room_id
    """,
    "latest_values": """
        SELECT l.node_id, n.organization_id, n.device_id, q.key AS quantity, q.unit,
               l.ts, l.value, i.room_id, r.site_id
        FROM telemetry_latest l
        JOIN inventory_node n ON n.id = l.node_id
        JOIN inventory_quantity q ON q.id = l.quantity_id
        LEFT JOIN inventory_installation i
            ON i.node_id = n.id AND i.start <= now() AND (i."end" IS NULL OR i."end" > now())
        LEFT JOIN inventory_room r ON r.id = i.room_id
    """,
    "alerts": """
        SELECT a.id AS alert_id, a.organization_id, a.node_id, n.device_id,
               ru.name AS rule, q.key AS quantity, a.severity, a.message, a.started_at,
               a.opened_at, a.resolved_at, a.acknowledged_at, a.last_value, a.last_ts
        FROM alerts_alert a
        JOIN inventory_node n ON n.id = a.node_id
        JOIN alerts_alertrule ru ON ru.id = a.rule_id
        LEFT JOIN inventory_quantity q ON q.id = a.quantity_id
    """,
}

TABLES = (
    "dbroles_reportinglogin",
    "tenancy_organization",
    "inventory_site",
    "inventory_room",
    "inventory_nodemodel",
    "inventory_node",
    "inventory_installation",
    "inventory_quantity",
    "telemetry_sample",
    "telemetry_latest",
    "alerts_alert",
    "alerts_alertrule",
)


def create_sql() -> list[str]:
    statements = [f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}"]
    for name, select in VIEWS.items():
        statements.append(
            f"CREATE VIEW {SCHEMA}.{name} WITH (security_barrier) AS "
            f"SELECT * FROM ({select.strip()}) AS v WHERE {MINE}"
        )
    return statements


def drop_sql() -> list[str]:
    return [f"DROP VIEW IF EXISTS {SCHEMA}.{name}" for name in VIEWS]


def before_migrate(using: str = "default", **kwargs: Any) -> None:
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for statement in drop_sql():
            cursor.execute(statement)


def after_migrate(using: str = "default", **kwargs: Any) -> None:
    """Create the views once every table they read exists (not after a partial migrate)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        names = [*TABLES, *(f"{SCHEMA}.{view}" for view in VIEWS)]
        cursor.execute(
            "SELECT to_regclass(name) IS NOT NULL FROM unnest(%s::text[]) WITH ORDINALITY "
            "AS t(name, i) ORDER BY i",
            [names],
        )
        present = [row[0] for row in cursor.fetchall()]
        if not all(present[: len(TABLES)]) or all(present[len(TABLES) :]):
            return  # a table is missing, or the views exist (a test's flush, say)
        for statement in drop_sql() + create_sql():
            cursor.execute(statement)
