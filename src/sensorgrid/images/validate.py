"""Checking a picture a device sent and preparing what is stored: pure, no I/O.

The type comes from the bytes (Pillow identifies them; only JPEG, PNG and WebP are
opened at all), never from a header or a file name. Limits are checked before the
pixels are decoded: the byte size first, then width × height from the header (a small
file can declare a huge canvas, a decompression bomb). Then the picture is decoded
completely (a truncated or corrupt one is refused), GPS positions are removed from its
metadata (EXIF's GPS directory, XMP that carries one), and a thumbnail is made.
Originals without location data are kept byte for byte; the others are encoded again
without it (JPEG with its own quantization tables, ``quality="keep"``).
"""

import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from sensorgrid.telemetry.models import Reason

FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
THUMBNAIL_TYPE = "image/webp"
#: EXIF's pointer to the GPS directory (ExifTags.IFD.GPSInfo)
GPS_IFD = 0x8825


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
    original: bytes  # as sent, or encoded again without location data
    thumbnail: bytes
    gps_removed: bool


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
        content_type = FORMATS[picture.format or ""]
        width, height = picture.size
        if getattr(picture, "n_frames", 1) > 1:
            raise Refused(Reason.UNSUPPORTED_IMAGE, "an animated picture; send one still frame")
        try:
            picture.load()  # the whole decode: truncated and corrupt data fail here
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
            raise Refused(
                Reason.UNSUPPORTED_IMAGE, f"broken {picture.format} data: {exc}"
            ) from None
        original, removed = _without_location(picture, data)
        thumbnail = _thumbnail(picture, limits.thumbnail_px)
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


def _xmp_locates(picture: Image.Image) -> bool:
    xmp = picture.info.get("xmp") or picture.info.get("XML:com.adobe.xmp")
    if isinstance(xmp, str):
        xmp = xmp.encode("utf-8", "replace")
    return isinstance(xmp, bytes) and b"GPS" in xmp.upper()


def _without_location(picture: Image.Image, data: bytes) -> tuple[bytes, bool]:
    """The original's bytes without GPS metadata, and whether any was removed."""
    exif = picture.getexif()
    located = GPS_IFD in exif
    xmp = _xmp_locates(picture)
    if not located and not xmp:
        return data, False
    if located:
        del exif[GPS_IFD]
    options: dict[str, object] = {"exif": exif.tobytes()}
    if icc := picture.info.get("icc_profile"):
        options["icc_profile"] = icc
    if picture.format == "JPEG":
        options.update(quality="keep", subsampling="keep")
    elif picture.format == "WEBP":
        options.update(quality=90)
    out = io.BytesIO()
    picture.save(out, picture.format, **options)  # no xmp= given: XMP is dropped
    return out.getvalue(), True


def _thumbnail(picture: Image.Image, px: int) -> bytes:
    """A WebP at most ``px`` wide and high, upright (EXIF orientation applied)."""
    small = ImageOps.exif_transpose(picture)
    small.thumbnail((px, px))
    if small.mode not in ("RGB", "RGBA"):
        has_alpha = small.mode in ("LA", "PA") or "transparency" in small.info
        small = small.convert("RGBA" if has_alpha else "RGB")
    out = io.BytesIO()
    small.save(out, "WEBP", quality=80)
    return out.getvalue()
