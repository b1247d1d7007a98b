"""``sensorgrid simulate --transport http`` against a live SensorGrid server."""

import re

import pytest

from sensorgrid.inventory.models import Node
from sensorgrid.telemetry.models import DeadLetter, Sample
from tests.simulator.test_command import simulate

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_http_devices_post_with_their_own_credentials_and_everything_is_stored(
    world, live_server, tmp_path
):
    output = simulate(
        tmp_path,
        *["--profile", "room", "--count", "2", "--rate", "4", "--duration", "2"],
        *["--transport", "http", "--url", live_server.url],
        *["--register", "--organization", "org-a"],
    )
    generated, acknowledged, queued = map(
        int,
        re.search(r"(\d+) messages generated, (\d+) acknowledged, (\d+) queued", output).groups(),
    )
    assert generated >= 4 and acknowledged == generated and queued == 0, output
    nodes = Node.objects.filter(alias__startswith="Simulated room", organization=world.org_a)
    assert nodes.count() == 2
    stamps = {
        node.device_id: set(Sample.objects.filter(node=node).values_list("ts", flat=True))
        for node in nodes
    }
    assert sum(len(s) for s in stamps.values()) == acknowledged  # one instant per message
    assert not DeadLetter.objects.exists()
