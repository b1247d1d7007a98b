"""Pictures over MQTT at a real (throwaway) Mosquitto, read by the ingest service."""

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.storage import storages

from sensorgrid.images.models import Image
from sensorgrid.telemetry.models import DeadLetter
from tests.images.conftest import has_gps, picture
from tests.ingest.mqtt.conftest import eventually, running, send

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

WHEN = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


@pytest.fixture
def mosquitto(tmp_path):
    from tests.servers import Mosquitto

    server = Mosquitto(tmp_path / "mosquitto").start()
    yield server
    server.stop()


def test_both_routes_store_pictures_and_refusals_become_dead_letters(store_kind, world, mosquitto):
    device = world.node_a.device_id
    envelope = {"ts": WHEN.isoformat(), "data": base64.b64encode(picture("PNG")).decode()}
    messages = [
        (f"sensorgrid/{device}/image/door", picture("JPEG", gps=True)),
        (f"/images/gate/{device}", json.dumps(envelope).encode()),
        (f"sensorgrid/{device}/image/door", b"GIF89a" + b"\0" * 50),
        ("sensorgrid/no-such-camera/image/door", picture("JPEG")),
    ]
    with running(mosquitto.url):
        assert send(mosquitto.url, messages) == 4
        eventually(lambda: Image.objects.count() == 2, what="two pictures")
        eventually(lambda: DeadLetter.objects.count() == 2, what="two dead letters")
    door = Image.objects.get(name="door")
    gate = Image.objects.get(name="gate")
    assert (door.node, door.content_type, gate.content_type) == (
        world.node_a,
        "image/jpeg",
        "image/png",
    )
    assert gate.ts == WHEN
    with storages["images"].open(door.key, "rb") as handle:
        assert not has_gps(handle.read())
    letters = {letter.reason: letter for letter in DeadLetter.objects.all()}
    assert set(letters) == {"unsupported-image", "unknown-device"}
    assert letters["unsupported-image"].node == world.node_a
    assert letters["unsupported-image"].decoder == "image"
    assert letters["unknown-device"].device_id == "no-such-camera"


def test_a_resent_picture_is_stored_once(world, mosquitto):
    device = world.node_a.device_id
    body = {"ts": WHEN.isoformat(), "data": base64.b64encode(picture()).decode()}
    message = (f"sensorgrid/{device}/image/door", json.dumps(body).encode())
    with running(mosquitto.url):
        assert send(mosquitto.url, [message, message, message]) == 3
        eventually(lambda: Image.objects.count() == 1, what="one picture")
    # Every delivery was acknowledged after commit and none became a dead letter.
    assert not DeadLetter.objects.exists()


def test_a_failing_store_holds_the_picture_until_it_works_again(
    world, mosquitto, settings, tmp_path, images_dir
):
    from sensorgrid.ingest.mqtt import metrics
    from tests.images.conftest import filesystem_store

    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the store's directory should be")
    good = settings.STORAGES["images"]
    settings.STORAGES = {**settings.STORAGES, "images": filesystem_store(blocked)}
    failures = metrics.DATABASE_ERRORS._value.get()
    with running(mosquitto.url):
        send(mosquitto.url, [(f"sensorgrid/{world.node_a.device_id}/image/door", picture())])
        eventually(lambda: metrics.DATABASE_ERRORS._value.get() > failures, what="a retried batch")
        # Retried, not refused: nothing stored, nothing dead-lettered, nothing acknowledged.
        assert not Image.objects.exists() and not DeadLetter.objects.exists()
        settings.STORAGES = {**settings.STORAGES, "images": good}
        eventually(lambda: Image.objects.count() == 1, timeout=60, what="the picture")
    assert not DeadLetter.objects.exists()
