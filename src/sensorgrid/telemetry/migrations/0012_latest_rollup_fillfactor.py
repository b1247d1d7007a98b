"""Free room in the pages of the tables every ingest batch updates (PostgreSQL only).

Each batch upserts one latest value per series it holds and one hourly and one daily
rollup per series: an update of a row whose indexed columns do not change. At the
default fillfactor (100) the new row version finds no room in its page, so it goes to
another page and every index gets an entry; with room left, PostgreSQL keeps it in the
same page (a HOT update) and the indexes are not touched. Measured: HOT updates 0-1 %
→ 35-60 %, PostgreSQL CPU per batch -27 % with inventory 0013 (docs/performance.md).

Pages written before keep their fill until rewritten (VACUUM FULL, or as rows move);
new pages keep the room from now on.
"""

from django.db import migrations

FILLFACTOR = {"telemetry_latest": 50, "telemetry_rollup": 70}


def leave_room(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, percent in FILLFACTOR.items():
        schema_editor.execute(f"ALTER TABLE {table} SET (fillfactor = {percent})")


def fill_pages(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in FILLFACTOR:
        schema_editor.execute(f"ALTER TABLE {table} RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("telemetry", "0011_gateway")]

    operations = [migrations.RunPython(leave_room, fill_pages, elidable=False)]
