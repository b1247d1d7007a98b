"""Binary payload codecs (LoRaWAN frames). Importing this package registers every codec
module in it."""

from sensorgrid.ingest.codecs.base import Codec, CodecError, available, get
from sensorgrid.registry import import_modules

import_modules(__name__, __path__)

__all__ = ["Codec", "CodecError", "available", "get"]
