from django.apps import AppConfig


class IngestConfig(AppConfig):
    """The ingest library and its HTTP entry point."""

    name = "sensorgrid.ingest"
    verbose_name = "Ingest"

    def ready(self) -> None:
        from django.core import checks

        from sensorgrid import events
        from sensorgrid.ingest import cache
        from sensorgrid.ingest.api import credential_cache

        # settings.AFTER_COMMIT_CONSUMERS: a typo fails every command at start, not a batch.
        checks.register(events.check)
        cache.connect_invalidation()
        credential_cache.connect_invalidation()
