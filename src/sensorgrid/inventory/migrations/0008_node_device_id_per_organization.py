"""Device ids unique per organization ignoring case; DevEUIs in lower case (issue 16)."""

import django.core.validators
import django.db.models.functions.text
from django.db import migrations, models

from sensorgrid.inventory.device_ids import canonical


def canonical_device_ids(apps, schema_editor):
    """Existing DevEUIs in lower case; a clash within one organization is for a human."""
    Node = apps.get_model("inventory", "Node")
    seen: dict[tuple[int, str], str] = {}
    for node in Node.objects.order_by("pk").only("pk", "organization_id", "device_id"):
        key = (node.organization_id, node.device_id.lower())
        if key in seen:
            raise RuntimeError(
                f"organization {node.organization_id} has nodes {seen[key]!r} and "
                f"{node.device_id!r}: one device id in two spellings. Delete or rename one, "
                "then migrate again."
            )
        seen[key] = node.device_id
        if canonical(node.device_id) != node.device_id:
            Node.objects.filter(pk=node.pk).update(device_id=canonical(node.device_id))


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0007_node_status"),
        ("tenancy", "0002_organization_raw_retention"),
    ]

    operations = [
        migrations.AlterField(
            model_name="node",
            name="device_id",
            field=models.CharField(
                db_index=True,
                max_length=64,
                validators=[
                    django.core.validators.RegexValidator(
                        "^[A-Za-z0-9][A-Za-z0-9_.:-]*\\Z",
                        "Use letters, digits and _ . : - only (it appears in MQTT topics), starting with a letter or digit.",
                    )
                ],
            ),
        ),
        migrations.RunPython(canonical_device_ids, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="node",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("device_id"),
                models.F("organization"),
                name="node_device_id_per_organization",
                violation_error_message="This organization already has a node with this device id (device ids ignore case).",
            ),
        ),
    ]
