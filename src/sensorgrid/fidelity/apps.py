from django.apps import AppConfig


class FidelityConfig(AppConfig):
    """Node health states (ALIVE, MISSING, DEAD, UNKNOWN) and their history."""

    name = "sensorgrid.fidelity"
    verbose_name = "Device health"

    def ready(self) -> None:
        from sensorgrid.fidelity import revive
        from sensorgrid.ingest import hooks

        hooks.register(revive.after_ingest)
