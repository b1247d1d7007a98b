from django.apps import AppConfig


class AlertsConfig(AppConfig):
    """Rules evaluated from ingest and device health; alerts; one outbox for deliveries."""

    name = "sensorgrid.alerts"
    verbose_name = "Alerts and forwarding"

    def ready(self) -> None:
        from sensorgrid.alerts import scope

        # Its consumers of ingest and fidelity events: settings AFTER_COMMIT_CONSUMERS.
        scope.connect_invalidation()
