"""Payload decoders. Importing this package registers every decoder module in it."""

from sensorgrid.ingest.decoders.base import (
    Decoder,
    JsonDecoder,
    Refused,
    available,
    get,
    registered,
    source_of,
)
from sensorgrid.registry import import_modules

import_modules(__name__, __path__)

__all__ = ["Decoder", "JsonDecoder", "Refused", "available", "get", "registered", "source_of"]
