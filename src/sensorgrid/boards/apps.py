from django.apps import AppConfig


class BoardsConfig(AppConfig):
    """An organization's named dashboards made of panels (docs/dashboard.md)."""

    name = "sensorgrid.boards"
    verbose_name = "Dashboards"
