from django.apps import AppConfig


class HealthConfig(AppConfig):
    name = "sensorgrid.health"
    verbose_name = "Health"
