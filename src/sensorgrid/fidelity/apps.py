from django.apps import AppConfig


class FidelityConfig(AppConfig):
    """Node health states (ALIVE, MISSING, DEAD, UNKNOWN) and their history.

    Reviving nodes that deliver again follows ingest through settings
    ``AFTER_COMMIT_CONSUMERS`` (``fidelity.revive.after_ingest``)."""

    name = "sensorgrid.fidelity"
    verbose_name = "Device health"

    def ready(self) -> None:
        from sensorgrid.fidelity.metrics import NodeHealthCollector
        from sensorgrid.observability import collectors

        collectors.register(NodeHealthCollector())
