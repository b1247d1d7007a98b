"""Reading fixed-size fields from a frame, for the codecs.

Every read says what it reads, so a short frame fails with a ``CodecError`` whose
offset is the first byte of the field that could not be read completely, and whose
message names that field.
"""

import struct
from typing import Literal

from sensorgrid.ingest.codecs.base import CodecError


class Reader:
    """A cursor over one frame. Formats are ``struct`` formats with a byte order."""

    __slots__ = ("data", "offset")

    def __init__(self, data: bytes) -> None:
        self.data = bytes(data)
        self.offset = 0

    def left(self) -> int:
        return len(self.data) - self.offset

    def read(self, fmt: str, what: str) -> tuple[int, ...]:
        """Unpack ``fmt`` at the cursor and move past it."""
        size = struct.calcsize(fmt)
        self._need(size, what)
        values = struct.unpack_from(fmt, self.data, self.offset)
        self.offset += size
        return values

    def one(self, fmt: str, what: str) -> int:
        """Unpack a single number (``fmt`` holds one field)."""
        (value,) = self.read(fmt, what)
        return value

    def int24(self, what: str, *, byteorder: Literal["big", "little"], signed: bool = True) -> int:
        """Three bytes as one integer; ``struct`` has no 24-bit format."""
        self._need(3, what)
        raw = self.data[self.offset : self.offset + 3]
        self.offset += 3
        return int.from_bytes(raw, byteorder, signed=signed)

    def skip(self, size: int, what: str) -> None:
        self._need(size, what)
        self.offset += size

    def _need(self, size: int, what: str) -> None:
        if self.left() < size:
            raise CodecError(
                self.offset, f"{what} needs {size} byte(s), the frame has {self.left()} left"
            )
