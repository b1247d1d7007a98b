"""Sources. Importing this package registers the built-in ones; ``get`` finds one."""

from sensorgrid.geo.pipelines.registry import SOURCES, Source
from sensorgrid.geo.pipelines.sources import (  # noqa: F401
    csv_table,
    geojson,
    ical,
    json_records,
    overpass,
    wfs,
    wikipedia,
)


def get(key: str) -> Source:
    """The registered source ``key``; KeyError naming the known ones."""
    return SOURCES.get(key)


def names() -> list[str]:
    return SOURCES.keys()
