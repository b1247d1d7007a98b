from django.apps import AppConfig


class ImagesConfig(AppConfig):
    """Device images in object storage and the autoencoder that flags unusual ones."""

    name = "sensorgrid.images"
    verbose_name = "Images"
