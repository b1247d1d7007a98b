"""What is stored of a picture, and every refusal, as pure functions of its bytes."""

import io

import pytest
from PIL import Image as Pillow

from sensorgrid.images.validate import Limits, Refused, prepare
from tests.images.conftest import has_gps, picture

LIMITS = Limits(max_bytes=200_000, max_pixels=1_000_000, thumbnail_px=32)


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")],
)
def test_the_type_comes_from_the_bytes(fmt, content_type):
    prepared = prepare(picture(fmt, size=(80, 60)), LIMITS)
    assert (prepared.content_type, prepared.width, prepared.height) == (content_type, 80, 60)
    thumbnail = Pillow.open(io.BytesIO(prepared.thumbnail))
    assert thumbnail.format == "WEBP" and max(thumbnail.size) == 32


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_gps_is_removed_and_the_rest_of_the_exif_kept(fmt):
    sent = picture(fmt, gps=True)
    assert has_gps(sent)
    prepared = prepare(sent, LIMITS)
    assert prepared.metadata_removed and not has_gps(prepared.original)
    exif = Pillow.open(io.BytesIO(prepared.original)).getexif()
    assert exif[0x010F] == "SensorGrid test camera"


def test_a_picture_with_only_whitelisted_metadata_is_kept_byte_for_byte():
    sent = picture("JPEG")  # JFIF and an EXIF with the camera's make (rebuilt the same)
    assert prepare(sent, LIMITS).original == sent


def test_xmp_with_a_position_is_dropped():
    image = Pillow.new("RGB", (20, 20))
    out = io.BytesIO()
    xmp = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        b"<exif:GPSLatitude>52,31N</exif:GPSLatitude></x:xmpmeta>"
    )
    image.save(out, "JPEG", xmp=xmp)
    prepared = prepare(out.getvalue(), LIMITS)
    assert prepared.metadata_removed and b"GPSLatitude" not in prepared.original


def refusal(data: bytes, limits: Limits = LIMITS) -> tuple[str, str]:
    with pytest.raises(Refused) as caught:
        prepare(data, limits)
    return caught.value.reason, caught.value.detail


def test_every_refusal_has_its_reason():
    assert refusal(b"") == ("unsupported-image", "the picture is empty")
    assert refusal(b"GIF89a" + b"\0" * 40)[0] == "unsupported-image"
    assert refusal(b"<svg onload=alert(1)>")[0] == "unsupported-image"
    gif = io.BytesIO()
    Pillow.new("RGB", (10, 10)).save(gif, "GIF")
    assert "not a JPEG, PNG or WebP" in refusal(gif.getvalue())[1]
    noisy = io.BytesIO()
    Pillow.effect_noise((200, 200), 60).save(noisy, "JPEG")
    jpeg = noisy.getvalue()
    reason, detail = refusal(jpeg[: len(jpeg) * 3 // 4])
    assert reason == "unsupported-image" and "broken JPEG data" in detail
    reason, detail = refusal(jpeg[:100])  # the header cut short
    assert reason == "unsupported-image" and "unreadable picture" in detail
    reason, detail = refusal(b"\xff" * 200_001)
    assert reason == "too-large" and "SENSORGRID_IMAGE_MAX_BYTES" in detail


def test_a_decompression_bomb_is_refused_from_its_header():
    # 20,000 × 20,000 pixels of one colour: a few hundred KB of PNG, 1.2 GB decoded.
    bomb = io.BytesIO()
    Pillow.new("1", (20_000, 20_000)).save(bomb, "PNG")
    assert len(bomb.getvalue()) < LIMITS.max_bytes * 5
    reason, detail = refusal(bomb.getvalue(), Limits(10_000_000, 1_000_000, 32))
    assert reason == "too-large" and "SENSORGRID_IMAGE_MAX_PIXELS" in detail


def test_an_animated_picture_is_refused():
    frames = [Pillow.new("RGB", (10, 10), (i * 40, 0, 0)) for i in range(3)]
    out = io.BytesIO()
    frames[0].save(out, "WEBP", save_all=True, append_images=frames[1:])
    assert refusal(out.getvalue())[0] == "unsupported-image"


def test_the_default_pixel_limit_is_16_megapixels():
    """It bounds one picture's decode (review R-4: 25 MP of PNG cost ~290 MB)."""
    limits = Limits.from_settings()
    assert limits.max_pixels == 16_000_000
    out = io.BytesIO()
    Pillow.new("1", (4001, 4000)).save(out, "PNG")
    reason, detail = refusal(out.getvalue(), limits)
    assert reason == "too-large" and "16004000 pixels" in detail
