from django.apps import AppConfig


class FidelityConfig(AppConfig):
    """Node health states (ALIVE, MISSING, DEAD, UNKNOWN) and their history."""

    name = "sensorgrid.fidelity"
    verbose_name = "Device health"

    def ready(self) -> None:
        from sensorgrid.fidelity import revive
        from sensorgrid.fidelity.metrics import NodeHealthCollector
        from sensorgrid.ingest import hooks
        from sensorgrid.observability import collectors

        hooks.register(revive.after_ingest)
        collectors.register(NodeHealthCollector())
