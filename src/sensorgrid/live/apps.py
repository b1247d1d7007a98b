"""Live values: the WebSocket endpoint /ws/live/ and what publishes to it."""

from django.apps import AppConfig


class LiveConfig(AppConfig):
    """WebSocket push of committed samples, health changes and alerts (docs/dashboard.md)."""

    name = "sensorgrid.live"
    verbose_name = "Live values"

    def ready(self) -> None:
        from sensorgrid.alerts.signals import alert_changed
        from sensorgrid.fidelity.signals import status_changed
        from sensorgrid.ingest import hooks
        from sensorgrid.live import permissions, publish

        hooks.register(publish.after_ingest)
        status_changed.connect(publish.status_changed, dispatch_uid="live-status")
        alert_changed.connect(publish.alert_changed, dispatch_uid="live-alert")
        permissions.connect_receivers()
