from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """Server-rendered pages with small ES modules (docs/dashboard.md)."""

    name = "sensorgrid.dashboard"
    verbose_name = "Dashboard"
