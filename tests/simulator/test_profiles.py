"""Profiles: deterministic, and every payload is accepted by its decoder."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from sensorgrid.images.models import Image
from sensorgrid.ingest import pipeline
from sensorgrid.ingest.envelope import Envelope
from sensorgrid.simulator import profiles
from sensorgrid.simulator.backfill import ROUTES
from sensorgrid.simulator.registration import register
from sensorgrid.simulator.run import Schedule, devices, history
from sensorgrid.telemetry.models import Sample

MONDAY_9 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def payloads(profile: str, seed: int, kinds=frozenset()) -> list[bytes]:
    p = profiles.get(profile)
    found = history(
        p, Schedule(0.01, 3), devices(p, 3, seed), MONDAY_9, MONDAY_9 + timedelta(hours=1), kinds
    )
    return [uplink.payload for _, _, uplink in found]


@pytest.mark.parametrize("profile", profiles.available())
def test_the_same_seed_gives_the_same_payloads_and_another_seed_others(profile):
    first = payloads(profile, seed=1)
    assert len(first) == 108  # 3 devices, one message per 100 s, for an hour
    assert payloads(profile, seed=1) == first
    assert payloads(profile, seed=2) != first


def test_room_co2_follows_lessons_and_breaks():
    room = profiles.get("room")
    device = room.device(1, 1)
    in_lesson = room.reading(device, MONDAY_9.replace(hour=10, minute=20))["co2"]
    after_break = room.reading(device, MONDAY_9.replace(hour=10, minute=40))["co2"]
    at_night = room.reading(device, MONDAY_9.replace(hour=3))["co2"]
    assert 400 <= at_night < 550 < after_break < in_lesson <= 2000
    assert in_lesson > 1000


def test_lorawan_devices_are_named_by_a_deveui():
    device = profiles.get("lorawan").device(1, 1)
    assert len(device.device_id) == 16
    int(device.device_id, 16)


def ingest_history(profile: str, kinds=frozenset(), hours: float = 1):
    p = profiles.get(profile)
    end = timezone.now()
    outcomes = []
    start = end - timedelta(hours=hours)
    found = history(p, Schedule(0.01, 3), devices(p, 3, 1), start, end, kinds)
    for _, _, uplink in found:
        match = ROUTES.match(uplink.topic)
        assert match is not None and match.route.decoder == p.decoder
        envelope = Envelope(
            match.route.source, uplink.topic, uplink.payload, uplink.ts, device=match.device
        )
        outcomes.append(pipeline.ingest(envelope, match.route.decoder))
    return outcomes


@pytest.mark.parametrize("profile", profiles.available())
def test_every_profile_is_stored_by_its_decoder(world, profile):
    p = profiles.get(profile)
    register(p, devices(p, 3, 1), "org-a")
    outcomes = ingest_history(profile)
    assert [o.rejected for o in outcomes if o.rejected or o.refused] == []
    # A picture (the camera) is one stored image per message, a reading several values.
    assert all(o.accepted >= (1 if p.decoder == "image" else 3) for o in outcomes)
    stored = Image.objects.count() if p.decoder == "image" else Sample.objects.count()
    assert stored == sum(o.accepted for o in outcomes)


def test_spikes_become_out_of_range_dead_letters_and_the_rest_is_stored(world):
    p = profiles.get("room")
    register(p, devices(p, 3, 1), "org-a")
    outcomes = ingest_history("room", frozenset({"spikes"}), hours=12)
    reasons = {r.reason for o in outcomes for r in o.rejected}
    assert reasons == {"out-of-range"}
    assert sum(1 for o in outcomes if not o.rejected) > 0.9 * len(outcomes)


def test_dropout_silences_devices_and_skew_moves_their_clocks():
    plain = payloads("room", 1)
    assert len(payloads("room", 1, frozenset({"dropout"}))) < len(plain)
    skewed = payloads("room", 1, frozenset({"skew"}))
    assert len(skewed) == len(plain) and skewed != plain
