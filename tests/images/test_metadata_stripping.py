"""Metadata is cut down to a whitelist, losslessly (security review R-2, R-6).

Each case hides a position somewhere a blacklist missed; the stored original must not
carry it, must decode to exactly the pixels sent, and must stay upright.
"""

import io
import random
import struct
import zlib

import pytest
from PIL import Image as Pillow

from sensorgrid.images.validate import Limits, Refused, prepare
from tests.images.conftest import has_gps, picture

LIMITS = Limits(8 * 1024 * 1024, 16_000_000, 32)
XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
    b'xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="52,31.2N" '
    b'exif:GPSLongitude="13,24.0E"/></rdf:RDF></x:xmpmeta>'
)
GPS = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 1.0)}


def noisy(fmt: str, **options) -> bytes:
    out = io.BytesIO()
    Pillow.effect_noise((64, 48), 50).convert("RGB").save(out, fmt, **options)
    return out.getvalue()


def pixels(data: bytes) -> bytes:
    return Pillow.open(io.BytesIO(data)).convert("RGBA").tobytes()


def app1(payload: bytes) -> bytes:
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def stored(data: bytes):
    prepared = prepare(data, LIMITS)
    assert pixels(prepared.original) == pixels(data)  # lossless: the same pixels
    assert b"GPS" not in prepared.original.upper()
    assert not has_gps(prepared.original)
    return prepared


def test_xmp_inside_exif_tag_0x02bc_is_dropped():
    exif = Pillow.Exif()
    exif[0x010F] = "cam"
    exif[0x02BC] = XMP  # XMLPacket in IFD0
    prepared = stored(noisy("JPEG", exif=exif.tobytes()))
    assert prepared.metadata_removed
    assert Pillow.open(io.BytesIO(prepared.original)).getexif()[0x010F] == "cam"


def test_xmp_tag_and_a_gps_directory_are_both_dropped():
    exif = Pillow.Exif()
    exif[0x02BC] = XMP
    exif[0x8825] = GPS
    assert stored(noisy("JPEG", exif=exif.tobytes())).metadata_removed


def test_a_second_exif_segment_with_gps_is_dropped():
    plain = noisy("JPEG", exif=_exif_block(gps=False))
    located = _exif_block(gps=True)  # a second EXIF APP1 segment, before the tables
    data = plain[:2] + plain[2:].replace(b"\xff\xdb", app1(located) + b"\xff\xdb", 1)
    assert data.count(b"Exif\x00\x00") == 2
    prepared = stored(data)
    assert prepared.metadata_removed and prepared.original.count(b"Exif\x00\x00") == 1


def _exif_block(gps: bool) -> bytes:
    exif = Pillow.Exif()
    exif[0x010F] = "SensorGrid test camera"
    if gps:
        exif[0x8825] = GPS
    return exif.tobytes()


def test_extended_xmp_is_dropped():
    extension = (
        b"http://ns.adobe.com/xmp/extension/\x00"
        + b"0" * 32
        + struct.pack(">II", len(XMP), 0)
        + XMP
    )
    plain = noisy("JPEG")
    assert stored(plain[:2] + app1(extension) + plain[2:]).metadata_removed


@pytest.mark.parametrize("kind", [b"zTXt", b"tEXt", b"iTXt", b"GPSx"])
def test_png_text_chunks_are_dropped(kind):
    raw = f"\nxmp\n{len(XMP):8d}\n{XMP.hex()}\n".encode()
    body = {
        b"zTXt": b"Raw profile type xmp\x00\x00" + zlib.compress(raw),
        b"tEXt": b"Comment\x00" + XMP,
        b"iTXt": b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + XMP,
        b"GPSx": XMP,  # an unknown "critical" chunk: Pillow skips it, so would viewers
    }[kind]
    plain = noisy("PNG")
    data = plain[:33] + png_chunk(kind, body) + plain[33:]
    assert stored(data).metadata_removed


def test_png_keeps_transparency_and_icc():
    image = Pillow.new("P", (20, 10))
    image.putpalette([255, 0, 0, 0, 255, 0] * 128)
    out = io.BytesIO()
    image.save(out, "PNG", transparency=0, exif=_exif_block(gps=True))
    prepared = stored(out.getvalue())
    assert prepared.metadata_removed and b"tRNS" in prepared.original


def test_webp_exif_and_xmp_chunks_are_dropped_and_their_flags_cleared():
    exif = Pillow.Exif()
    exif[0x010F] = "cam"
    exif[0x8825] = GPS
    data = noisy("WEBP", lossless=True, exif=exif.tobytes(), xmp=XMP)
    prepared = stored(data)
    assert prepared.metadata_removed and b"XMP " not in prepared.original
    flags = prepared.original[20]
    assert prepared.original[12:16] == b"VP8X" and flags & 0x08 and not flags & 0x04
    assert Pillow.open(io.BytesIO(prepared.original)).getexif()[0x010F] == "cam"


def test_data_after_the_end_of_the_picture_is_dropped():
    data = noisy("JPEG") + b"trailing GPS 52.52N"
    prepared = stored(data)
    assert prepared.original.endswith(b"\xff\xd9")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_orientation_survives_so_the_picture_stays_upright(fmt):
    exif = Pillow.Exif()
    exif[0x0112] = 6  # turn 90° clockwise to show
    exif[0x8825] = GPS
    data = Pillow.new("RGB", (40, 20), (0, 200, 0))
    out = io.BytesIO()
    data.save(out, fmt, exif=exif.tobytes(), **({"lossless": True} if fmt == "WEBP" else {}))
    prepared = stored(out.getvalue())
    assert Pillow.open(io.BytesIO(prepared.original)).getexif()[0x0112] == 6
    assert Pillow.open(io.BytesIO(prepared.thumbnail)).size == (16, 32)  # upright


def test_a_multi_picture_jpeg_is_refused():
    out = io.BytesIO()
    first, second = Pillow.new("RGB", (40, 30), "red"), Pillow.new("RGB", (40, 30), "green")
    first.save(out, "MPO", save_all=True, append_images=[second])
    with pytest.raises(Refused) as caught:
        prepare(out.getvalue(), LIMITS)
    assert caught.value.reason == "unsupported-image" and "MPO" in caught.value.detail


def test_a_webp_with_a_broken_exif_header_loses_its_exif():
    data = bytearray(picture("WEBP", gps=True))
    data[data.find(b"MM\x00*") + 2] = 0xB9
    prepared = stored(bytes(data))
    assert b"EXIF" not in prepared.original


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data:UserWarning")
@pytest.mark.filterwarnings("ignore:Truncated File Read:UserWarning")
@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_fuzz_mutated_pictures_are_stored_clean_or_refused(fmt):
    """Mutations of the metadata and of anything else: never an exception but Refused."""
    rnd = random.Random(fmt)
    base = picture(fmt, gps=True)
    tiff = max(base.find(b"MM\x00*"), base.find(b"II*\x00"))
    for round_ in range(150):
        data = bytearray(base)
        start = tiff if round_ % 2 else 0
        for _ in range(rnd.randint(1, 4)):
            data[min(len(data) - 1, start + rnd.randrange(160))] = rnd.randrange(256)
        if round_ % 15 == 0:
            data = data[: rnd.randrange(len(data))]
        try:
            prepared = prepare(bytes(data), LIMITS)
        except Refused as exc:
            assert exc.reason in ("unsupported-image", "too-large")
        else:
            assert not has_gps(prepared.original)
