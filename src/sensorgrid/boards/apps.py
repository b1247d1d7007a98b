from django.apps import AppConfig


class BoardsConfig(AppConfig):
    """An organization's dashboards: panels on a grid, stored as JSON, shareable."""

    name = "sensorgrid.boards"
    verbose_name = "Dashboards"
