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
        from sensorgrid.inventory import codec_keys

        # settings.AFTER_COMMIT_CONSUMERS: a typo fails every command at start, not a batch.
        checks.register(events.check)
        # NodeModel.codec is validated against our codec registry; inventory, a layer
        # below, cannot import it. Imported when asked: the codecs load on first use.
        codec_keys.provide(_codec_keys)
        cache.connect_invalidation()
        credential_cache.connect_invalidation()


def _codec_keys() -> list[str]:
    from sensorgrid.ingest import codecs

    return codecs.available()
