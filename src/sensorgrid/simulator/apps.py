from django.apps import AppConfig


class SimulatorConfig(AppConfig):
    """``sensorgrid simulate``: simulated devices for demos, load and resilience tests."""

    name = "sensorgrid.simulator"
    verbose_name = "Simulator"
