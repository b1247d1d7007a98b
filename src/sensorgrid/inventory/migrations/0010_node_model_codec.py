from django.db import migrations, models

import sensorgrid.inventory.models

# Keys that name payload decoders, never codecs: models saved with them read no frame.
DECODER_KEYS = {"json", "ttn", "ttn_v3", "chirpstack", "chirpstack_v3", "kpi", "vehicle"}


def decoder_keys_to_codecs(apps, schema_editor) -> None:
    """The demo's Elsys model named the decoder ``ttn_v3``, which is no codec: it reads
    Elsys frames, so ``elsys``. Other decoder keys (``json``, ``kpi``…) name no codec."""
    NodeModel = apps.get_model("inventory", "NodeModel")
    NodeModel.objects.filter(manufacturer="Elsys", codec="ttn_v3").update(codec="elsys")
    NodeModel.objects.filter(codec__in=DECODER_KEYS | {"managair"}).update(codec="")


class Migration(migrations.Migration):
    """NodeModel.decoder holds a codec key: it is called codec and is checked (issue 18, item 3)."""

    dependencies = [("inventory", "0009_lpp_quantities")]
    operations = [
        migrations.RenameField("nodemodel", "decoder", "codec"),
        migrations.AlterField(
            model_name="nodemodel",
            name="codec",
            field=models.SlugField(
                blank=True,
                help_text="Key of the codec that reads the devices' binary LoRaWAN frames, e.g. "
                "elsys, cayenne_lpp (docs/codecs.md). Empty: the network server decodes them.",
                max_length=50,
                validators=[sensorgrid.inventory.models.validate_codec],
            ),
        ),
        migrations.RunPython(decoder_keys_to_codecs, migrations.RunPython.noop),
    ]
