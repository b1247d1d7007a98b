from django.apps import AppConfig


class IngestConfig(AppConfig):
    """The ingest library and its HTTP entry point."""

    name = "sensorgrid.ingest"
    verbose_name = "Ingest"

    def ready(self) -> None:
        from sensorgrid.ingest import cache
        from sensorgrid.ingest.api import credential_cache

        cache.connect_invalidation()
        credential_cache.connect_invalidation()
