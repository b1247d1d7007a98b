from django.apps import AppConfig


class SensorThingsConfig(AppConfig):
    """The OGC SensorThings API 1.1 face of the inventory and the samples, /sta/v1.1/."""

    name = "sensorgrid.sensorthings"
    verbose_name = "SensorThings API"
