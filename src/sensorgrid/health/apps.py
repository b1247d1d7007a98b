from django.apps import AppConfig


class HealthConfig(AppConfig):
    """Probes (/healthz, /readyz), ingest counters and the staff status page.

    The counters follow ingest through settings ``AFTER_COMMIT_CONSUMERS``
    (``health.ingest_rate.after_ingest``)."""

    name = "sensorgrid.health"
    verbose_name = "Health"

    def ready(self) -> None:
        from sensorgrid.health.metrics import DatabaseUpCollector
        from sensorgrid.observability import collectors

        collectors.register(DatabaseUpCollector())
