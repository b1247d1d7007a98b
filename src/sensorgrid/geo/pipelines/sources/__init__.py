"""Sources. Importing this package registers every source module in it; ``get`` finds one."""

from sensorgrid.geo.pipelines.registry import SOURCES, Source
from sensorgrid.registry import import_modules

# Every module of the package: a source registers itself on import.
import_modules(__name__, __path__)


def get(key: str) -> Source:
    """The registered source ``key``; KeyError naming the known ones."""
    return SOURCES.get(key)


def names() -> list[str]:
    return SOURCES.keys()
