"""Binary payload codecs (LoRaWAN frames). Importing this package registers them."""

from sensorgrid.ingest.codecs import (  # noqa: F401
    cayenne_lpp,
    decentlab,
    decentlab_products,
    dragino,
    elsys,
    milesight,
)
from sensorgrid.ingest.codecs.base import Codec, CodecError, available, get

__all__ = ["Codec", "CodecError", "available", "get"]
