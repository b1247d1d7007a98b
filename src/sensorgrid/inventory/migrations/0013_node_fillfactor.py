"""Free room in the node table's pages for last_seen (PostgreSQL only).

Every ingest batch moves last_seen of each node it heard: 1,000 nodes' rows per batch
in a table with ten indexes, none of them on last_seen. At the default fillfactor (100)
the new row version goes to another page and all ten indexes get an entry; with room
left in the page PostgreSQL makes it a HOT update and touches no index (measured with
telemetry 0012: HOT updates 1-8 % → 35-60 %, docs/performance.md).
"""

from django.db import migrations

FILLFACTOR = 70


def leave_room(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE inventory_node SET (fillfactor = {FILLFACTOR})")


def fill_pages(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE inventory_node RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("inventory", "0012_room_floor_outdoor")]

    operations = [migrations.RunPython(leave_room, fill_pages, elidable=False)]
