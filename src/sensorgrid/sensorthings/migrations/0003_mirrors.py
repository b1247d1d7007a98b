"""Backfill the STA mirrors of what existed before SensorThings (sensorthings.mirror).

Quantities (seeded by inventory's migrations), node models, sites, installations, nodes
and every series with data get their ObservedProperty, Sensor, Location,
HistoricalLocation, Thing and samples Datastream, through the same idempotent
``mirror.ensure`` the endpoint runs, on this migration's historical models. Reversing
leaves the rows (0001's reversal drops their tables).
"""

from django.db import migrations


def backfill(apps, schema_editor):
    from sensorgrid.sensorthings import mirror

    mirror.ensure(apps=apps)


class Migration(migrations.Migration):
    dependencies = [
        ("sensorthings", "0002_observation_row_view"),
        ("inventory", "0012_room_floor_outdoor"),
        ("telemetry", "0007_partition_functions"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True)]
