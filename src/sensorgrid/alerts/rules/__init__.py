"""Rule kinds: one small module per kind (docs/alerts.md). Importing this package registers them.

A kind registers itself by subclassing ``Kind`` with a ``key`` (``base.REGISTRY``, the
shared ``sensorgrid.registry.Registry`` that decoders, codecs and profiles use too).
"""

from sensorgrid.alerts.rules.base import REGISTRY, Kind
from sensorgrid.registry import import_modules

import_modules(__name__, __path__)


def get(key: str) -> Kind:
    """The kind ``key``; ``KeyError`` naming the known kinds if there is none."""
    return REGISTRY.get(key)


def available() -> list[str]:
    """The keys of every registered kind, sorted."""
    return REGISTRY.keys()


__all__ = ["Kind", "available", "get"]
