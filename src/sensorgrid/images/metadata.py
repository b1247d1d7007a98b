"""Metadata removal by whitelist, on the container level: the pixels are not touched.

A picture's metadata can hide a position in many places (EXIF's GPS directory, XMP inside
EXIF tag 0x02BC, a second EXIF segment, extended XMP, PNG text chunks such as
ImageMagick's "Raw profile type xmp", WebP XMP chunks, vendor segments). Looking for GPS
in each of them is a blacklist that misses the next one; so every container is rewritten
keeping only what is needed to show the picture:

- JPEG: every marker segment that is not an APPn is kept (tables, frame, scans); of the
  APPn only APP0 JFIF/JFXX, APP2 ICC_PROFILE and APP14 Adobe; comments (COM) are kept.
  Anything after the end-of-image marker (MPO frames, appended files) is dropped.
- PNG: the critical chunks (IHDR, PLTE, IDAT, IEND) and tRNS, gAMA, cHRM, sRGB, iCCP,
  pHYs, sBIT, bKGD; nothing after IEND.
- WebP: VP8X, ICCP, ALPH, VP8 and VP8L; the EXIF, XMP and unknown chunks are dropped and
  VP8X's EXIF/XMP flags cleared.

A small EXIF block is then *built anew* (never copied) from a few harmless tags of the
first readable EXIF: orientation (so the picture is shown upright exactly as before),
camera make and model, and the time. The entropy-coded / compressed pixel data is copied
byte for byte, so the stored picture decodes to the same pixels as the one sent.
"""

import struct
import warnings
import zlib

from PIL import Image

#: Tags of EXIF's first directory that are copied into the new block, with their types.
KEPT_TAGS: dict[int, type] = {
    0x010F: str,  # Make
    0x0110: str,  # Model
    0x0112: int,  # Orientation
    0x0132: str,  # DateTime
}
ORIENTATION = 0x0112
GPS_IFD = 0x8825

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: Only the known critical chunks: Pillow skips unknown ones, so they could hide anything
PNG_CRITICAL = {b"IHDR", b"PLTE", b"IDAT", b"IEND"}
PNG_KEPT_ANCILLARY = {b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"pHYs", b"sBIT", b"bKGD"}
WEBP_KEPT = {b"VP8X", b"ICCP", b"ALPH", b"VP8 ", b"VP8L"}
#: VP8X flag bits (first byte of its payload)
WEBP_EXIF_FLAG = 0x08
WEBP_XMP_FLAG = 0x04


class BadContainer(ValueError):
    """The container's structure can't be walked (a truncated or forged segment)."""


def clean_exif(picture: Image.Image) -> Image.Exif | None:
    """A new EXIF with only ``KEPT_TAGS`` of the picture's, None if there are none.

    Unreadable EXIF (a broken TIFF header) is treated as absent: it is dropped.
    """
    try:
        with warnings.catch_warnings():  # "Corrupt EXIF data": what is readable is used
            warnings.simplefilter("ignore", UserWarning)
            exif = picture.getexif()
        values = {tag: exif.get(tag) for tag in KEPT_TAGS}
    except (OSError, SyntaxError, ValueError, TypeError, KeyError, IndexError, struct.error):
        return None
    clean = Image.Exif()
    for tag, kind in KEPT_TAGS.items():
        value = values[tag]
        if isinstance(value, bytes) and kind is str:
            value = value.decode("ascii", "replace")
        if not isinstance(value, kind) or isinstance(value, bool):
            continue
        if tag == ORIENTATION and value not in range(1, 9):
            continue
        if isinstance(value, str):
            value = value.strip("\x00")[:200]
        clean[tag] = value
    return clean if len(clean) else None


def strip(fmt: str, data: bytes, exif: Image.Exif | None) -> tuple[bytes, bytes]:
    """``data`` with only whitelisted metadata (plus ``exif``), and the bytes dropped."""
    if fmt == "JPEG":
        return _jpeg(data, exif)
    if fmt == "PNG":
        return _png(data, exif)
    if fmt == "WEBP":
        return _webp(data, exif)
    raise BadContainer(f"no metadata whitelist for {fmt}")


def _jpeg_kept(marker: int, payload: bytes) -> bool:
    if not 0xE0 <= marker <= 0xEF:
        return True  # tables, frames, scans, DRI, COM (0xFE)
    if marker == 0xE0:
        return payload.startswith((b"JFIF\x00", b"JFXX\x00"))
    if marker == 0xE2:
        return payload.startswith(b"ICC_PROFILE\x00")
    if marker == 0xEE:
        return payload.startswith(b"Adobe")
    return False


def _jpeg(data: bytes, exif: Image.Exif | None) -> tuple[bytes, bytes]:
    if data[:2] != b"\xff\xd8":
        raise BadContainer("no JPEG start-of-image marker")
    out = [b"\xff\xd8"]
    dropped: list[bytes] = []
    pos = 2
    exif_at = 1  # where the new EXIF goes: after SOI, or after APP0
    end = len(data)
    while True:
        if pos >= end or data[pos] != 0xFF:
            raise BadContainer(f"no JPEG marker at byte {pos}")
        while pos < end and data[pos] == 0xFF:  # fill bytes
            pos += 1
        if pos >= end:
            raise BadContainer("JPEG data ends inside a marker")
        marker = data[pos]
        pos += 1
        if marker == 0xD9:  # end of image: anything after it is dropped
            out.append(b"\xff\xd9")
            dropped.append(data[pos:])
            break
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # standalone markers
            out.append(bytes((0xFF, marker)))
            continue
        if pos + 2 > end:
            raise BadContainer("JPEG data ends inside a segment length")
        (length,) = struct.unpack(">H", data[pos : pos + 2])
        if length < 2 or pos + length > end:
            raise BadContainer(f"a JPEG segment (marker {marker:#04x}) runs past the end")
        segment = data[pos - 2 : pos + length]
        payload = data[pos + 2 : pos + length]
        pos += length
        if _jpeg_kept(marker, payload):
            out.append(segment)
            if marker == 0xE0 and len(out) == 2:
                exif_at = 2
        else:
            dropped.append(segment)
        if marker == 0xDA:  # start of scan: entropy-coded data up to the next marker
            scan_end = pos
            while True:
                scan_end = data.find(b"\xff", scan_end)
                if scan_end < 0 or scan_end + 1 >= end:
                    raise BadContainer("JPEG scan data without an end")
                following = data[scan_end + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
                    scan_end += 1 if following == 0xFF else 2
                    continue
                break
            out.append(data[pos:scan_end])
            pos = scan_end
    if exif is not None:
        block = exif.tobytes()  # b"Exif\0\0" + TIFF
        out.insert(exif_at, b"\xff\xe1" + struct.pack(">H", len(block) + 2) + block)
    return b"".join(out), b"".join(dropped)


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png(data: bytes, exif: Image.Exif | None) -> tuple[bytes, bytes]:
    if not data.startswith(PNG_SIGNATURE):
        raise BadContainer("no PNG signature")
    out = [PNG_SIGNATURE]
    dropped: list[bytes] = []
    pos = len(PNG_SIGNATURE)
    placed = exif is None
    while True:
        if pos + 8 > len(data):
            raise BadContainer("PNG data ends without IEND")
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        chunk = data[pos : pos + 12 + length]
        if len(chunk) != 12 + length:
            raise BadContainer(f"the PNG chunk {kind!r} runs past the end")
        pos += 12 + length
        if not placed and kind == b"IDAT":  # eXIf must come before the image data
            assert exif is not None
            out.append(_png_chunk(b"eXIf", exif.tobytes()[6:]))
            placed = True
        if kind in PNG_CRITICAL or kind in PNG_KEPT_ANCILLARY:
            out.append(chunk)
        else:
            dropped.append(chunk)
        if kind == b"IEND":
            dropped.append(data[pos:])
            break
    return b"".join(out), b"".join(dropped)


def _webp(data: bytes, exif: Image.Exif | None) -> tuple[bytes, bytes]:
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise BadContainer("no RIFF WEBP header")
    (riff_size,) = struct.unpack("<I", data[4:8])
    body_end = min(len(data), 8 + riff_size)
    chunks: list[bytes] = []
    dropped: list[bytes] = [data[body_end:]]
    pos = 12
    while pos + 8 <= body_end:
        kind = data[pos : pos + 4]
        (length,) = struct.unpack("<I", data[pos + 4 : pos + 8])
        chunk = data[pos : pos + 8 + length + (length & 1)]
        if pos + 8 + length > body_end:
            raise BadContainer(f"the WebP chunk {kind!r} runs past the end")
        pos += len(chunk)
        if kind in WEBP_KEPT:
            chunks.append(chunk)
        else:
            dropped.append(chunk)
    if pos < body_end:
        dropped.append(data[pos:body_end])
    if chunks and chunks[0][:4] == b"VP8X" and len(chunks[0]) >= 9:
        flags = chunks[0][8] & ~(WEBP_EXIF_FLAG | WEBP_XMP_FLAG)
        if exif is not None:
            block = exif.tobytes()[6:]
            pad = b"\0" * (len(block) & 1)
            chunks.append(b"EXIF" + struct.pack("<I", len(block)) + block + pad)
            flags |= WEBP_EXIF_FLAG
        chunks[0] = chunks[0][:8] + bytes((flags,)) + chunks[0][9:]
    # a simple (VP8/VP8L only) WebP can't carry EXIF: its orientation is lost, but such a
    # file had no EXIF to begin with (EXIF needs the extended format's VP8X).
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body, b"".join(dropped)
