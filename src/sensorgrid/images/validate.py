"""Checking a picture a device sent and preparing what is stored: pure, no I/O.

The type comes from the bytes (Pillow identifies them; only JPEG, PNG and WebP are
opened at all), never from a header or a file name. Limits are checked before the
pixels are decoded: the byte size first, then width × height from the header (a small
file can declare a huge canvas, a decompression bomb). Then the picture is decoded
completely (a truncated or corrupt one is refused), its metadata is cut down to a
whitelist (``metadata.py``: no location data survives in any container, the pixels are
copied byte for byte) and a thumbnail is made.
"""

import hashlib
import io
import struct
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from sensorgrid.images import metadata
from sensorgrid.telemetry.models import Reason

FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
THUMBNAIL_TYPE = "image/webp"
#: What a picture's parsing may raise besides Refused (Pillow's decoders and EXIF reader)
UNREADABLE = (OSError, SyntaxError, ValueError, TypeError, KeyError, IndexError, struct.error)
#: EXIF orientation → the transpose that makes the picture upright (as ImageOps.exif_transpose)
UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


class Refused(ValueError):
    """A picture that is not stored: a dead-letter reason and a detail to act on."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Limits:
    max_bytes: int
    max_pixels: int
    thumbnail_px: int

    @classmethod
    def from_settings(cls) -> "Limits":
        from django.conf import settings

        return cls(
            settings.SENSORGRID_IMAGE_MAX_BYTES,
            settings.SENSORGRID_IMAGE_MAX_PIXELS,
            settings.SENSORGRID_IMAGE_THUMBNAIL_PX,
        )


@dataclass(frozen=True, slots=True)
class Prepared:
    """A picture ready to store."""

    sha256: str  # of the bytes as sent
    content_type: str
    width: int
    height: int
    original: bytes  # the sent pixels, with whitelisted metadata only
    thumbnail: bytes
    metadata_removed: bool  # metadata outside the whitelist was dropped (EXIF is rebuilt)


def prepare(data: bytes, limits: Limits) -> Prepared:
    """Check ``data`` and make what is stored of it; raises ``Refused``."""
    if not data:
        raise Refused(Reason.UNSUPPORTED_IMAGE, "the picture is empty")
    if len(data) > limits.max_bytes:
        raise Refused(
            Reason.TOO_LARGE,
            f"{len(data)} bytes; the limit is {limits.max_bytes} (SENSORGRID_IMAGE_MAX_BYTES)",
        )
    sha256 = hashlib.sha256(data).hexdigest()
    picture = _open(data, limits)
    try:
        content_type = FORMATS.get(picture.format or "")
        if content_type is None:  # Pillow's JPEG opener answers MPO for multi-picture JPEGs
            raise Refused(
                Reason.UNSUPPORTED_IMAGE,
                f"a {picture.format} picture (multi-picture JPEG); send one still frame",
            )
        width, height = picture.size
        if getattr(picture, "n_frames", 1) > 1:
            raise Refused(Reason.UNSUPPORTED_IMAGE, "an animated picture; send one still frame")
        exif = metadata.clean_exif(picture)
        try:
            original, dropped = metadata.strip(picture.format or "", data, exif)
        except metadata.BadContainer as exc:
            detail = f"broken {picture.format} data: {exc}"
            raise Refused(Reason.UNSUPPORTED_IMAGE, detail) from None
        removed = bool(dropped)
        # the whole decode (in the thumbnail): truncated and corrupt data fail here
        thumbnail = _thumbnail(picture, limits.thumbnail_px, exif)
    except Refused:
        raise
    except (*UNREADABLE, Image.DecompressionBombError) as exc:
        raise Refused(Reason.UNSUPPORTED_IMAGE, f"broken {picture.format} data: {exc}") from None
    finally:
        picture.close()
    return Prepared(sha256, content_type, width, height, original, thumbnail, removed)


def _open(data: bytes, limits: Limits) -> Image.Image:
    """The picture with only its header read, refused if not JPEG/PNG/WebP or too big."""
    with warnings.catch_warnings():
        # Pillow warns above Image.MAX_IMAGE_PIXELS and refuses above twice that; our
        # own limit (below) is the one that counts, so its warning is noise here.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            picture = Image.open(io.BytesIO(data), formats=list(FORMATS))
        except Image.DecompressionBombError as exc:
            raise Refused(
                Reason.TOO_LARGE,
                f"{exc} The limit is {limits.max_pixels} (SENSORGRID_IMAGE_MAX_PIXELS).",
            ) from None
        except UnidentifiedImageError:
            raise Refused(
                Reason.UNSUPPORTED_IMAGE,
                f"not a JPEG, PNG or WebP picture (starts with {data[:8].hex(' ')})",
            ) from None
        except (OSError, SyntaxError, ValueError) as exc:
            raise Refused(Reason.UNSUPPORTED_IMAGE, f"unreadable picture: {exc}") from None
    width, height = picture.size
    if width * height > limits.max_pixels:
        picture.close()
        raise Refused(
            Reason.TOO_LARGE,
            f"{width}×{height} = {width * height} pixels; the limit is {limits.max_pixels} "
            "(SENSORGRID_IMAGE_MAX_PIXELS)",
        )
    if width == 0 or height == 0:
        picture.close()
        raise Refused(Reason.UNSUPPORTED_IMAGE, f"a picture of {width}×{height} pixels")
    return picture


def _thumbnail(picture: Image.Image, px: int, exif: Image.Exif | None) -> bytes:
    """A WebP at most ``px`` wide and high, upright (EXIF orientation applied).

    The whole picture is decoded once (truncated or corrupt data raises here) and made
    small in place, with no full-size copy: a JPEG is decoded at the smallest DCT scale
    still twice ``px`` (``draft``), the others are reduced by whole factors first
    (``reducing_gap``); the small picture is turned, never the big one.
    """
    picture.thumbnail((px, px), reducing_gap=2.0)
    small: Image.Image = picture
    if exif is not None and (method := UPRIGHT.get(exif.get(metadata.ORIENTATION, 1))):
        small = small.transpose(method)
    if small.mode not in ("RGB", "RGBA"):
        has_alpha = small.mode in ("LA", "PA") or "transparency" in small.info
        small = small.convert("RGBA" if has_alpha else "RGB")
    out = io.BytesIO()
    small.save(out, "WEBP", quality=80)
    return out.getvalue()
