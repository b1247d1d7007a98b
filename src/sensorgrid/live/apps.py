"""Live values: the WebSocket endpoint /ws/live/ and what publishes to it."""

from django.apps import AppConfig


class LiveConfig(AppConfig):
    """WebSocket push of committed samples, health changes and alerts (docs/dashboard.md)."""

    name = "sensorgrid.live"
    verbose_name = "Live values"

    def ready(self) -> None:
        from sensorgrid.live import permissions

        # Its consumers of ingest, fidelity and alerts events: settings AFTER_COMMIT_CONSUMERS.
        permissions.connect_receivers()
