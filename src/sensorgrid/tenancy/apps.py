from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "sensorgrid.tenancy"
    verbose_name = "Organizations and users"
