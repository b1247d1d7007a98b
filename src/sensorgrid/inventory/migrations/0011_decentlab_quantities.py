from django.db import migrations

from sensorgrid.inventory.quantities import seed


class Migration(migrations.Migration):
    """The quantities of the Decentlab products: soil, weather station, pressure probe
    (issue 18, item 4)."""

    dependencies = [("inventory", "0010_node_model_codec")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
