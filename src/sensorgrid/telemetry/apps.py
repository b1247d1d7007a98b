from django.apps import AppConfig


class TelemetryConfig(AppConfig):
    """Stored measurements: samples, rollups, latest values and dead letters."""

    name = "sensorgrid.telemetry"
    verbose_name = "Telemetry"

    def ready(self) -> None:
        from sensorgrid.observability import collectors
        from sensorgrid.telemetry import signals  # noqa: F401
        from sensorgrid.telemetry.metrics import PartitionSizeCollector

        collectors.register(PartitionSizeCollector())
