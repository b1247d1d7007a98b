"""Pictures as the vectors the outlier models read, and reconstructions back to pictures.

A picture becomes a downscaled grayscale image (``SIZE`` × ``SIZE``, area-averaged, so
sensor noise averages out and a model has ~1,000 inputs whatever the camera's
resolution), as float32 in [0, 1], flattened row by row. numpy and Pillow come with the
``outliers`` extra; without it these functions raise ``MissingExtra`` naming it.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from sensorgrid import extras

if TYPE_CHECKING:
    import numpy

#: side of the downscaled grayscale picture a model reads
SIZE = 32
#: side of the reconstruction picture stored for people to look at (nearest-neighbour)
SHOWN = 128
FEATURE = "Image outlier detection"
#: pictures larger than this are refused before decoding (the images app's limit is lower)
MAX_PIXELS = 50_000_000


def numpy_module():
    return extras.require("numpy", "outliers", FEATURE)


def pil_image():
    return extras.require("PIL.Image", "outliers", FEATURE)


class UnreadablePicture(ValueError):
    """The bytes are no picture Pillow can decode (or one too large to decode)."""


def vector(data: bytes, size: int = SIZE) -> numpy.ndarray:
    """``data`` (JPEG, PNG, WebP … bytes) as a float32 vector of ``size``² in [0, 1]."""
    np, image_module = numpy_module(), pil_image()
    try:
        with image_module.open(io.BytesIO(data)) as image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise UnreadablePicture(f"{width}×{height} pixels is too large to score")
            image.draft("L", (size * 4, size * 4))  # JPEG: decode at a reduced scale
            gray = image.convert("L").resize((size, size), image_module.Resampling.BOX)
    except (OSError, SyntaxError, image_module.DecompressionBombError) as exc:
        raise UnreadablePicture(f"not a readable picture: {exc}") from None
    return np.asarray(gray, dtype=np.float32).reshape(-1) / 255.0


def matrix(pictures: list[bytes], size: int = SIZE) -> numpy.ndarray:
    """Several pictures as the rows of one float32 matrix."""
    np = numpy_module()
    return (
        np.stack([vector(data, size) for data in pictures])
        if pictures
        else np.zeros((0, size * size), dtype=np.float32)
    )


def png(row: numpy.ndarray, shown: int = SHOWN) -> bytes:
    """A model vector (a reconstruction) as a grayscale PNG of ``shown`` × ``shown``."""
    np, image_module = numpy_module(), pil_image()
    side = round(len(row) ** 0.5)
    pixels = (np.clip(row.reshape(side, side), 0.0, 1.0) * 255).round().astype(np.uint8)
    image = image_module.fromarray(pixels, "L").resize(
        (shown, shown), image_module.Resampling.NEAREST
    )
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()
