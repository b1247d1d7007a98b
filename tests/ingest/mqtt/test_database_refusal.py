"""A message the database refuses is not blamed on its decoder, through a real Mosquitto.

A batch that fails on a database constraint (here one the operator added; in life also
a trigger or a revoked permission) used to be bisected down to the refused message,
which was then filed as ``decoder-error``: the operator went looking for a decoder bug.
"""

import threading
import uuid

import pytest
from django.db import connection

from sensorgrid.ingest.mqtt import config
from sensorgrid.ingest.mqtt.service import Ingester
from sensorgrid.telemetry.models import DeadLetter, Sample
from tests.ingest.conftest import hours_ago
from tests.ingest.mqtt.conftest import eventually, running, send

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

REFUSED = 666.0

SQLITE_TRIGGER = f"""
CREATE TRIGGER test_refuse_sample BEFORE INSERT ON telemetry_sample
WHEN NEW.value = {REFUSED}
BEGIN SELECT RAISE(ABORT, 'sample refused by the operator''s trigger'); END
"""
POSTGRES_CHECK = (
    f"ALTER TABLE telemetry_sample ADD CONSTRAINT test_refuse_sample CHECK (value <> {REFUSED})"
)


@pytest.fixture
def refusing_database():
    """The sample table refuses the value REFUSED, whoever sends it."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(POSTGRES_CHECK)
            drop = "ALTER TABLE telemetry_sample DROP CONSTRAINT test_refuse_sample"
        else:
            cursor.execute(SQLITE_TRIGGER)
            drop = "DROP TRIGGER test_refuse_sample"
    yield
    with connection.cursor() as cursor:
        cursor.execute(drop)


@pytest.fixture(autouse=True)
def routes(settings):
    settings.SENSORGRID_MQTT_ROUTES = ["sensorgrid/{device}/up=json"]


def reading(device: str, n: int, co2: float) -> tuple[str, dict]:
    return f"sensorgrid/{device}/up", {"ts": hours_ago(n / 60).isoformat(), "values": {"co2": co2}}


def test_a_message_the_database_refuses_is_a_database_error_not_a_decoder_error(
    world, mosquitto, refusing_database
):
    device = world.node_a.device_id
    messages = [reading(device, n, 400 + n) for n in range(1, 32)]
    messages.insert(20, reading(device, 40, REFUSED))
    client_id = f"refused-{uuid.uuid4().hex[:8]}"
    with running(mosquitto.url, client_id=client_id):
        pass  # the persistent session: what follows arrives as one backlog, one batch
    assert send(mosquitto.url, messages) == len(messages)
    ingester = Ingester(
        config.options(url=mosquitto.url, client_id=client_id), config.route_table()
    )
    thread = threading.Thread(target=ingester.run, daemon=True)
    thread.start()
    try:
        eventually(lambda: ingester.stored_messages == len(messages), what="all handled")
    finally:
        ingester.stop()
        thread.join(15)
    assert Sample.objects.filter(node=world.node_a).count() == 31
    letter = DeadLetter.objects.get()
    assert letter.reason == "database-error"
    assert letter.get_reason_display() == "The database refused to store it"
    assert "the database refused to store it (IntegrityError" in letter.detail
    assert "test_refuse_sample" in letter.detail or "operator's trigger" in letter.detail
    assert letter.topic == f"sensorgrid/{device}/up"
