"""Simulated classrooms with the simulator's fault modes, through the real ingest path."""

from datetime import UTC, datetime, timedelta

from sensorgrid.alerts import deliveries
from sensorgrid.alerts.models import Alert, Delivery, DeliveryStatus
from sensorgrid.inventory.models import Quantity
from sensorgrid.simulator import faults
from sensorgrid.simulator.backfill import backfill
from sensorgrid.simulator.profiles import base as profiles
from sensorgrid.simulator.run import Schedule
from tests import factories as f
from tests.alerts.conftest import rule, webhook

MONDAY = datetime(2026, 3, 2, tzinfo=UTC)


def test_a_school_day_with_faults_opens_one_alert_per_episode_and_notifies_each_once(
    world, receiver, django_capture_on_commit_callbacks
):
    profile = profiles.get("room")
    devices = [profile.device(i, 7) for i in (1, 2)]
    for device in devices:
        f.NodeFactory(organization=world.org_a, device_id=device.device_id)
    channel = webhook(world.org_a, receiver)
    co2 = Quantity.objects.get(key="co2")
    rule(
        world.org_a, "threshold", {"above": 1000, "clear": 900, "for_seconds": 600}, co2, [channel]
    )
    with django_capture_on_commit_callbacks(execute=True):
        summary, _ = backfill(
            profile,
            Schedule(rate=1 / 60, count=len(devices)),
            devices,
            MONDAY.replace(hour=7),
            MONDAY.replace(hour=16),
            faults.parse("dropout,stuck,spikes"),
        )
    assert summary.dead_letters > 0  # the spikes
    alerts = Alert.objects.order_by("opened_at")
    # Lessons push CO2 over 1,000 ppm, breaks vent it below 900: several episodes per
    # room, each one alert (not one per sample), never two open at once.
    assert 2 * 3 <= alerts.count() <= 2 * 7
    assert Alert.objects.open().count() == 0  # after school: all resolved
    for alert in alerts:
        assert alert.opened_at - alert.started_at >= timedelta(minutes=10)
    deliveries.send_due(limit=1000)
    assert Delivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == 2 * alerts.count()
    assert len(receiver.processed) == 2 * alerts.count()
    assert all(receiver.valid(r) for r in receiver.requests)
