from django.db import migrations

from sensorgrid.inventory.quantities import SEED


def seed(apps, schema_editor):
    # The same get_or_create as 0002: adds the keys added to SEED since, and leaves
    # quantities an administrator has edited alone.
    Quantity = apps.get_model("inventory", "Quantity")
    for key, name, unit, low, high in SEED:
        Quantity.objects.get_or_create(
            key=key, defaults={"name": name, "unit": unit, "min_value": low, "max_value": high}
        )


class Migration(migrations.Migration):
    dependencies = [("inventory", "0005_node_credential_index")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
