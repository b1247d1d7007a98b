from django.apps import AppConfig


class HealthConfig(AppConfig):
    """Probes (/healthz, /readyz), ingest counters and the staff status page."""

    name = "sensorgrid.health"
    verbose_name = "Health"

    def ready(self) -> None:
        from sensorgrid.health import ingest_rate
        from sensorgrid.ingest import hooks

        hooks.register(ingest_rate.after_ingest)
