import django.core.validators
from django.db import migrations, models


def outdoor_from_height(apps, schema_editor):
    """Until now a room 0 m high meant open air (no ceiling): say so explicitly."""
    Room = apps.get_model("inventory", "Room")
    Room.objects.filter(height=0).update(outdoor=True)


class Migration(migrations.Migration):
    """Room.floor and Room.outdoor (issue 19): whether indoor-air limits apply is a
    property of the room, no longer guessed from a height of 0."""

    dependencies = [("inventory", "0011_decentlab_quantities")]

    operations = [
        migrations.AddField(
            model_name="room",
            name="floor",
            field=models.SmallIntegerField(
                blank=True,
                help_text="Storey: 0 the ground floor, 1 the first upper floor, "
                "-1 the first basement.",
                null=True,
                validators=[
                    django.core.validators.MinValueValidator(-20),
                    django.core.validators.MaxValueValidator(300),
                ],
            ),
        ),
        migrations.AddField(
            model_name="room",
            name="outdoor",
            field=models.BooleanField(
                default=False,
                help_text="An outdoor place (a schoolyard, a roof terrace): indoor-air "
                "limits such as the CO2 traffic light do not apply.",
            ),
        ),
        migrations.RunPython(outdoor_from_height, migrations.RunPython.noop),
    ]
