from django.apps import AppConfig


class GeoConfig(AppConfig):
    """Map layers from open data (OSM, WFS, portals, calendars), docs/pipelines.md."""

    name = "sensorgrid.geo"
    verbose_name = "Open-data layers"
