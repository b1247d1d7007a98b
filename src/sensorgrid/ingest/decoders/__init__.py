"""Payload decoders. Importing this package registers the built-in ones."""

from sensorgrid.ingest.decoders import managair, sensorgrid_json  # noqa: F401
from sensorgrid.ingest.decoders.base import Decoder, available, get

__all__ = ["Decoder", "available", "get"]
