"""Payload decoders. Importing this package registers the built-in ones."""

from sensorgrid.ingest.decoders import (  # noqa: F401
    chirpstack,
    influx_line,
    kpi,
    kpi_strict,
    managair,
    sensorgrid_json,
    ttn,
    vehicle,
)
from sensorgrid.ingest.decoders.base import (
    Decoder,
    JsonDecoder,
    Refused,
    available,
    get,
    registered,
    source_of,
)

__all__ = ["Decoder", "JsonDecoder", "Refused", "available", "get", "registered", "source_of"]
