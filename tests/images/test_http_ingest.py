"""POST /api/v1/ingest/images/ with a node's credential, through the real HTTP stack,
into each store: the directory and the S3 emulator."""

import base64
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from rest_framework.test import APIClient

from sensorgrid.images.models import Image
from sensorgrid.telemetry.models import DeadLetter
from tests.images.conftest import has_gps, objects, picture

URL = "/api/v1/ingest/images/"
WHEN = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


def multi_picture_jpeg() -> bytes:
    """An MPO (stereo / "portrait" cameras): Pillow's JPEG opener answers format MPO."""
    from PIL import Image as Pillow

    out = io.BytesIO()
    first, second = Pillow.new("RGB", (40, 30), "red"), Pillow.new("RGB", (40, 30), "blue")
    first.save(out, "MPO", save_all=True, append_images=[second])
    return out.getvalue()


@pytest.fixture
def credentials(world):
    issued = {}
    for node in (world.node_a, world.node_b):
        issued[node.pk] = node.issue_credential()
        node.save(update_fields=["credential_digest"])
    return issued


def device(credential: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {credential}")
    return client


def post_raw(client, data: bytes, query: str = "", content_type: str = "image/jpeg"):
    return client.post(URL + query, data=data, content_type=content_type)


def test_a_picture_is_stored_once_with_its_thumbnail(world, credentials, store_kind, images_dir):
    client = device(credentials[world.node_a.pk])
    sent = picture("JPEG", size=(640, 480), gps=True)
    query = f"?name=door&ts={WHEN.isoformat().replace('+00:00', 'Z')}"
    response = post_raw(client, sent, query, content_type="application/octet-stream")
    assert response.status_code == 200, response.content
    assert response.json() == {"accepted": 1, "duplicates": 0}
    again = post_raw(client, sent, query)
    assert again.json() == {"accepted": 0, "duplicates": 1}
    image = Image.objects.get()
    assert (image.node, image.name, image.ts) == (world.node_a, "door", WHEN)
    assert (image.content_type, image.width, image.height) == ("image/jpeg", 640, 480)
    assert objects(store_kind, images_dir) == {image.key, image.thumbnail_key}
    with storages["images"].open(image.key, "rb") as handle:
        stored = handle.read()
    assert not has_gps(stored) and image.size == len(stored)
    world.node_a.refresh_from_db()
    assert world.node_a.last_seen is not None


def test_the_same_bytes_at_another_time_are_another_picture(world, credentials):
    client = device(credentials[world.node_a.pk])
    sent = picture("PNG")
    for hours in (1, 2):
        ts = (WHEN - timedelta(hours=hours)).isoformat().replace("+00:00", "Z")
        assert post_raw(client, sent, f"?ts={ts}").json()["accepted"] == 1
    assert Image.objects.filter(name="camera", content_type="image/png").count() == 2


def test_multipart_and_the_json_envelope_are_read(world, credentials):
    client = device(credentials[world.node_a.pk])
    upload = SimpleUploadedFile("x.gif", picture("WEBP"), content_type="image/gif")
    response = client.post(URL, {"file": upload, "name": "yard"}, format="multipart")
    assert response.status_code == 200, response.content
    envelope = {"ts": WHEN.isoformat(), "data": base64.b64encode(picture("PNG")).decode()}
    response = client.post(
        URL + "?name=gate", data=json.dumps(envelope), content_type="application/json"
    )
    assert response.status_code == 200, response.content
    stored = {(i.name, i.content_type) for i in Image.objects.all()}
    assert stored == {("yard", "image/webp"), ("gate", "image/png")}  # the bytes decide


@pytest.mark.parametrize(
    ("body", "query", "status", "reason"),
    [
        (b"GIF89a" + b"\0" * 100, "", 415, "unsupported-image"),
        (b"<html><script>alert(1)</script></html>", "", 415, "unsupported-image"),
        (b"", "", 415, "unsupported-image"),
        (multi_picture_jpeg(), "", 415, "unsupported-image"),
        (b'{"data": "not base64!"}', "", 400, "malformed"),
        (b'{"ts": 1}', "", 400, "malformed"),
        (None, "?ts=2999-01-01T00:00:00Z", 400, "bad-timestamp"),
        (None, "?ts=yesterday", 400, "bad-timestamp"),
    ],
)
def test_every_refusal_is_a_dead_letter_with_its_reason(
    world, credentials, body, query, status, reason
):
    client = device(credentials[world.node_a.pk])
    response = post_raw(client, picture() if body is None else body, query)
    assert response.status_code == status, response.content
    assert response.json()["reason"] == reason
    letter = DeadLetter.objects.get()
    assert (letter.reason, letter.decoder, letter.node, letter.organization) == (
        reason,
        "image",
        world.node_a,
        world.org_a,
    )
    assert not Image.objects.exists()


def test_too_many_bytes_or_pixels_keep_only_the_first_bytes(world, credentials, settings):
    settings.SENSORGRID_IMAGE_MAX_BYTES = 100_000
    settings.SENSORGRID_IMAGE_MAX_PIXELS = 10_000
    client = device(credentials[world.node_a.pk])
    big = b"\xff\xd8" + b"\0" * 300_000
    response = post_raw(client, big)
    assert (response.status_code, response.json()["reason"]) == (413, "too-large")
    response = post_raw(client, picture(size=(200, 200)))  # 40,000 pixels
    assert (response.status_code, response.json()["reason"]) == (413, "too-large")
    letters = DeadLetter.objects.order_by("pk")
    assert [letter.reason for letter in letters] == ["too-large", "too-large"]
    assert len(letters[0].payload) <= 4096  # metadata, not megabytes
    assert "SENSORGRID_IMAGE_MAX_PIXELS" in letters[1].detail


def test_a_multipart_upload_over_the_limit_is_refused(world, credentials, settings):
    settings.SENSORGRID_IMAGE_MAX_BYTES = 100_000
    client = device(credentials[world.node_a.pk])
    upload = SimpleUploadedFile("big.jpg", b"\xff\xd8" + b"\0" * 300_000)
    response = client.post(URL, {"file": upload}, format="multipart")
    assert (response.status_code, response.json()["reason"]) == (413, "too-large")
    assert len(DeadLetter.objects.get().payload) <= 4096


def test_no_credential_no_picture(world):
    response = APIClient().post(URL, data=picture(), content_type="image/jpeg")
    assert response.status_code == 401
    response = device("wrong").post(URL, data=picture(), content_type="image/jpeg")
    assert response.status_code == 401
    assert not Image.objects.exists() and not DeadLetter.objects.exists()


def test_a_suspended_organization_gets_403(world, credentials):
    from django.utils import timezone

    world.org_a.suspended_at = timezone.now()
    world.org_a.save()
    response = post_raw(device(credentials[world.node_a.pk]), picture())
    assert response.status_code == 403
    assert not Image.objects.exists()


def test_the_store_down_is_a_503_and_nothing_is_kept(world, credentials, settings, tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    settings.STORAGES = {
        **settings.STORAGES,
        "images": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": blocked, "allow_overwrite": True},
        },
    }
    response = post_raw(device(credentials[world.node_a.pk]), picture())
    assert response.status_code == 503 and response["Retry-After"]
    assert not Image.objects.exists() and not DeadLetter.objects.exists()


def test_the_picture_is_announced_after_commit(world, credentials, settings):
    seen = []
    settings.AFTER_COMMIT_CONSUMERS = {
        **settings.AFTER_COMMIT_CONSUMERS,
        "sensorgrid.images.events.ImageStored": [(seen.append, "after-ack")],
    }
    client = device(credentials[world.node_a.pk])
    query = f"?ts={int(WHEN.timestamp())}"
    for _ in range(2):  # the second is a duplicate: not announced again
        with TestCase.captureOnCommitCallbacks(execute=True):
            post_raw(client, picture(), query)
    image = Image.objects.get()
    assert [(e.image_id, e.node_id, e.organization_id, e.name) for e in seen] == [
        (image.pk, world.node_a.pk, world.org_a.pk, "camera")
    ]


def test_an_image_io_helper_reads_back(world, credentials):
    """The stored thumbnail is a real WebP picture a browser shows."""
    from PIL import Image as Pillow

    post_raw(device(credentials[world.node_a.pk]), picture(size=(1000, 500)))
    image = Image.objects.get()
    with storages["images"].open(image.thumbnail_key, "rb") as handle:
        thumb = Pillow.open(io.BytesIO(handle.read()))
    assert thumb.format == "WEBP" and thumb.size == (320, 160)
