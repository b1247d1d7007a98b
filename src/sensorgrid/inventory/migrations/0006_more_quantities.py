from django.db import migrations

from sensorgrid.inventory.quantities import seed


class Migration(migrations.Migration):
    dependencies = [("inventory", "0005_node_credential_index")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
