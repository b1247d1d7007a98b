"""On PostgreSQL the database itself refuses overlapping installations of a node.

Validation gives the friendly message; this constraint closes the race between two
concurrent requests. SQLite has no exclusion constraints, so it relies on validation.
"""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    """
    ALTER TABLE inventory_installation ADD CONSTRAINT installation_no_overlap
    EXCLUDE USING gist (node_id WITH =, tstzrange("start", "end", '[)') WITH &&)
    """,
]
BACKWARD = ["ALTER TABLE inventory_installation DROP CONSTRAINT installation_no_overlap"]


def run(statements):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return apply


class Migration(migrations.Migration):
    dependencies = [("inventory", "0002_seed_quantities")]
    operations = [migrations.RunPython(run(FORWARD), run(BACKWARD))]
