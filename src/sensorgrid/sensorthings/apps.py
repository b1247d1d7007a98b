from django.apps import AppConfig


class SensorThingsConfig(AppConfig):
    """The OGC SensorThings API 1.1 face of the inventory and the samples, /sta/v1.1/."""

    name = "sensorgrid.sensorthings"
    verbose_name = "SensorThings API"

    def ready(self) -> None:
        from sensorgrid.sensorthings import mirror

        # The STA rows of quantities, node models, sites, installations and nodes follow
        # their edits at once (mirror.py).
        mirror.connect()
