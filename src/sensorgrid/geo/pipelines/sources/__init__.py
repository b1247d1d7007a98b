"""Sources. Importing this package registers the built-in ones."""

from sensorgrid.geo.pipelines.sources import (  # noqa: F401
    csv_table,
    geojson,
    ical,
    json_records,
    overpass,
    wfs,
    wikipedia,
)
