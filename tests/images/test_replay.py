"""A refused picture's dead letter replays through the same decoder once its cause is
fixed (a camera that was not registered yet), with the sender's authority."""

from django.utils import timezone

from sensorgrid.images.ingest import store_many
from sensorgrid.images.models import Image
from sensorgrid.ingest.envelope import Envelope
from sensorgrid.ingest.replay import replay
from sensorgrid.telemetry.models import DeadLetter
from tests import factories as f
from tests.images.conftest import picture


def test_an_unknown_cameras_picture_is_stored_by_its_replay(world):
    envelope = Envelope(
        source="mqtt",
        topic="/images/door/new-cam",
        payload=picture(),
        received_at=timezone.now(),
        device="new-cam",
    )
    outcome = store_many([envelope]).outcomes[0]
    assert outcome.refused.reason == "unknown-device"
    letter = DeadLetter.objects.get()
    assert (letter.device_id, letter.decoder) == ("new-cam", "image")
    f.NodeFactory(organization=world.org_a, device_id="new-cam")
    letter.organization = world.org_a  # as an operator files it (the sender was unknown)
    letter.save()
    result = replay(letter)
    assert result.stored and result.accepted == 1
    image = Image.objects.get()
    assert (image.node.device_id, image.name) == ("new-cam", "door")


def test_a_big_refused_picture_keeps_only_its_first_bytes_and_replays_as_refused(world, settings):
    settings.SENSORGRID_IMAGE_MAX_PIXELS = 100
    envelope = Envelope(
        source="mqtt",
        topic=f"sensorgrid/{world.node_a.device_id}/image/door",
        payload=picture(size=(400, 300)) + b"\0" * 100_000,
        received_at=timezone.now(),
        device=world.node_a.device_id,
    )
    assert store_many([envelope]).outcomes[0].refused.reason == "too-large"
    letter = DeadLetter.objects.get()
    assert len(letter.payload) == 4096 and "kept as its first 4096" in letter.detail
    assert not replay(letter).stored
    assert not Image.objects.exists()
