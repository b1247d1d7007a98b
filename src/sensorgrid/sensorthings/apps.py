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
        from django.db.models.signals import post_save

        from sensorgrid.sensorthings.models import Datastream, Observation
        from sensorgrid.sensorthings.mqtt import feed

        # New entities for the MQTT subscribers (sensorthings/mqtt/feed.py).
        post_save.connect(feed.observation_saved, sender=Observation, dispatch_uid="sta-mqtt-obs")
        post_save.connect(feed.datastream_saved, sender=Datastream, dispatch_uid="sta-mqtt-ds")
        from sensorgrid.inventory.models import Node
        from sensorgrid.sensorthings import models

        for model in (
            Node,
            models.Location,
            models.HistoricalLocation,
            models.Sensor,
            models.ObservedProperty,
            models.FeatureOfInterest,
        ):
            post_save.connect(
                feed.entity_saved, sender=model, dispatch_uid=f"sta-mqtt-{model.__name__}"
            )
