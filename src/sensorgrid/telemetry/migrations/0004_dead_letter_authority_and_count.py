"""Dead letters keep the sender's credential and count identical refusals (issue 16)."""

from django.db import migrations, models


def last_received_is_received(apps, schema_editor):
    DeadLetter = apps.get_model("telemetry", "DeadLetter")
    DeadLetter.objects.update(last_received_at=models.F("received_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0008_node_device_id_per_organization"),
        ("telemetry", "0003_reception"),
        ("tenancy", "0002_organization_raw_retention"),
    ]

    operations = [
        migrations.AddField(
            model_name="deadletter",
            name="count",
            field=models.PositiveIntegerField(
                default=1, help_text="How many times it was refused."
            ),
        ),
        migrations.AddField(
            model_name="deadletter",
            name="credential",
            field=models.CharField(
                blank=True,
                choices=[
                    ("node", "Node credential"),
                    ("ingest-key", "Organization ingest key"),
                    ("mqtt-route", "MQTT route of an organization"),
                ],
                max_length=20,
            ),
        ),
        migrations.AddField(
            model_name="deadletter",
            name="credential_id",
            field=models.PositiveBigIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="deadletter",
            name="fingerprint",
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="deadletter",
            name="last_received_at",
            field=models.DateTimeField(
                db_index=True,
                help_text="When it was last refused; retention counts from here.",
                null=True,
            ),
        ),
        migrations.RunPython(last_received_is_received, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="deadletter",
            name="last_received_at",
            field=models.DateTimeField(
                db_index=True, help_text="When it was last refused; retention counts from here."
            ),
        ),
        migrations.AlterField(
            model_name="deadletter",
            name="reason",
            field=models.CharField(
                choices=[
                    ("malformed", "Payload cannot be parsed"),
                    ("unknown-device", "No node has this device id"),
                    ("ambiguous-device", "Nodes of several organizations have this device id"),
                    ("forbidden-device", "The credential may not write for this device"),
                    ("unknown-quantity", "Quantity not in the registry"),
                    ("invalid-value", "Value is not a finite number"),
                    ("out-of-range", "Value outside the quantity's plausible range"),
                    ("bad-timestamp", "Timestamp missing, unparsable, in the future or too old"),
                    ("decoder-error", "The decoder failed"),
                    ("device-error", "The device reported a measurement error"),
                ],
                db_index=True,
                max_length=30,
            ),
        ),
        migrations.AddIndex(
            model_name="deadletter",
            index=models.Index(
                condition=models.Q(("resolved_at__isnull", True)),
                fields=["fingerprint"],
                name="deadletter_open_fingerprint",
            ),
        ),
    ]
