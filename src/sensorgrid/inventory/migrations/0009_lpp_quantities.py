from django.db import migrations

from sensorgrid.inventory.quantities import seed


class Migration(migrations.Migration):
    """Every Cayenne LPP type and the PIR motion count get a quantity (issue 18, items 2, 6)."""

    dependencies = [("inventory", "0008_node_device_id_per_organization")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
