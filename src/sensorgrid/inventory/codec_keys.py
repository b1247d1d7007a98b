"""The codec keys a node model may name, as told by the layer that owns the codecs.

The codec registry is the ingest library's, a layer above inventory (docs/architecture.md):
inventory must not import it, so ingest hands over its key list from ``ready()`` and
``NodeModel.codec`` is validated against whatever was handed over (issue 17, item 3).
"""

from collections.abc import Callable

_provider: Callable[[], list[str]] | None = None


def provide(keys: Callable[[], list[str]]) -> None:
    """Name the function that lists the registered codec keys (ingest's ``ready()``)."""
    global _provider
    _provider = keys


def known() -> list[str]:
    """The registered codec keys, sorted."""
    if _provider is None:
        # Only without the ingest app, which every SensorGrid process installs.
        raise RuntimeError("no codec registry: sensorgrid.ingest is not in INSTALLED_APPS")
    return _provider()
