from django.db import migrations, models

import sensorgrid.tenancy.time_zones


class Migration(migrations.Migration):
    dependencies = [
        ("tenancy", "0003_invitation"),
    ]

    operations = [
        migrations.AddField(
            model_name="organization",
            name="time_zone",
            field=models.CharField(
                default=sensorgrid.tenancy.time_zones.default_time_zone,
                help_text="IANA time zone name (e.g. Europe/Berlin) the dashboard shows this organization's times and charts in; stored times stay UTC. Default: the platform's (SENSORGRID_TIME_ZONE).",
                max_length=64,
                validators=[sensorgrid.tenancy.time_zones.validate_time_zone],
            ),
        ),
    ]
