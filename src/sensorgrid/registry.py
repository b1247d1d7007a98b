"""A registry of named plugins: decoders, codecs, simulator profiles and alert rule kinds.

A library module like ``env`` and ``storable``: it imports nothing of ours, so every
layer (ingest, the consumers, the simulator) can keep its plugins in one.
"""

import importlib
import pkgutil
from collections.abc import Iterable
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """Items by key, in registration order; ``kind`` names them in error messages."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def add(self, key: str, item: T) -> None:
        if key in self._items:
            raise ValueError(f"two {self.kind}s claim the key {key!r}")
        self._items[key] = item

    def remove(self, key: str) -> None:
        """Forget ``key`` (tests that register a throwaway plugin)."""
        self._items.pop(key, None)

    def get(self, key: str) -> T:
        try:
            return self._items[key]
        except KeyError:
            known = ", ".join(self.keys())
            raise KeyError(f"no {self.kind} {key!r}; known: {known}") from None

    def keys(self) -> list[str]:
        return sorted(self._items)

    def items(self) -> list[T]:
        """Every item, in registration (import) order."""
        return list(self._items.values())


def import_modules(package: str, path: Iterable[str]) -> None:
    """Import every module of ``package`` (its ``__path__``), in name order.

    A plugin registers itself when its module is imported, so a package of plugins
    calls this from its ``__init__``: adding a plugin is adding its module, with no
    list to keep (docs/architecture.md, "How to add").
    """
    for module in sorted(m.name for m in pkgutil.iter_modules(path)):
        importlib.import_module(f"{package}.{module}")
