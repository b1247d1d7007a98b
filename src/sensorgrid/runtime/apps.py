from django.apps import AppConfig


class RuntimeConfig(AppConfig):
    """The platform's processes: `sensorgrid serve` and `sensorgrid demo`."""

    name = "sensorgrid.runtime"
    verbose_name = "Runtime"
