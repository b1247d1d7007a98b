from django.apps import AppConfig


class AlertsConfig(AppConfig):
    """Rules evaluated from ingest and device health; alerts; one outbox for deliveries."""

    name = "sensorgrid.alerts"
    verbose_name = "Alerts and forwarding"

    def ready(self) -> None:
        from sensorgrid.alerts import evaluate, scope
        from sensorgrid.fidelity.signals import status_changed
        from sensorgrid.ingest import hooks

        hooks.register(evaluate.after_ingest)
        status_changed.connect(evaluate.after_status_change, dispatch_uid="alerts-node-health")
        scope.connect_invalidation()
