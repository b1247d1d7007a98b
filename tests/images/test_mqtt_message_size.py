"""A message over the ingest's Maximum Packet Size never reaches it (review R-5).

The ingest client announces MQTT 5 Maximum Packet Size in CONNECT; a real (throwaway)
Mosquitto then drops a bigger message for that client instead of sending it, so a camera
credential cannot make the ingest process hold arbitrarily large messages.
"""

import pytest

from sensorgrid.images.models import Image
from sensorgrid.ingest.mqtt import config
from sensorgrid.telemetry.models import DeadLetter
from tests.images.conftest import picture
from tests.ingest.mqtt.conftest import eventually, running, send

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def mosquitto(tmp_path):
    from tests.servers import Mosquitto

    server = Mosquitto(tmp_path / "mosquitto").start()
    yield server
    server.stop()


def test_the_default_limit_follows_the_picture_limit(settings):
    settings.SENSORGRID_IMAGE_MAX_BYTES = 8 * 1024 * 1024
    settings.SENSORGRID_MQTT_MAX_MESSAGE_BYTES = 11_250_347  # the default for 8 MiB
    options = config.options(url="mqtt://127.0.0.1:1883", client_id="x")
    assert options.max_packet_size == 11_250_347 + config.PACKET_OVERHEAD
    settings.SENSORGRID_MQTT_MAX_MESSAGE_BYTES = 0
    assert config.options(url="mqtt://127.0.0.1:1883", client_id="x").max_packet_size is None


def test_an_oversized_message_is_not_delivered_and_a_normal_one_is(world, mosquitto):
    device = world.node_a.device_id
    limit = config.max_packet_size(200_000)
    huge = b"\xff\xd8" + b"\0" * 3_000_000  # 3 MB: over the 200 KB announced
    with running(mosquitto.url, max_packet_size=limit) as ingester:
        sent = send(
            mosquitto.url,
            [
                (f"sensorgrid/{device}/image/door", huge),
                (f"sensorgrid/{device}/image/door", picture("JPEG")),
            ],
        )
        assert sent == 2  # the broker took both from the camera
        eventually(lambda: Image.objects.count() == 1, what="the normal picture stored")
        assert ingester.connection.subscribed.is_set()  # still connected
    # the big one never reached the ingester: no too-large dead letter was written
    assert not DeadLetter.objects.exists()
