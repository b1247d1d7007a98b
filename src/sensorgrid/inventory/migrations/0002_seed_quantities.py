from django.db import migrations

from sensorgrid.inventory.quantities import SEED


def seed(apps, schema_editor):
    Quantity = apps.get_model("inventory", "Quantity")
    for key, name, unit, low, high in SEED:
        Quantity.objects.get_or_create(
            key=key, defaults={"name": name, "unit": unit, "min_value": low, "max_value": high}
        )


class Migration(migrations.Migration):
    dependencies = [("inventory", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
