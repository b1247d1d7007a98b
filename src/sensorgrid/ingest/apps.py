from django.apps import AppConfig


class IngestConfig(AppConfig):
    """The ingest library and its HTTP entry point."""

    name = "sensorgrid.ingest"
    verbose_name = "Ingest"

    def ready(self) -> None:
        from sensorgrid.ingest import cache

        cache.connect_invalidation()
