from django.apps import AppConfig


class OutliersConfig(AppConfig):
    """Autoencoders per node and image name that flag unusual pictures (docs/images.md)."""

    name = "sensorgrid.outliers"
    verbose_name = "Image outliers"
