"""Rule kinds are pure: a series' memory and one sample in, a verdict out."""

from datetime import UTC, datetime, timedelta

import pytest

from sensorgrid.alerts import rules
from sensorgrid.alerts.rules.base import Action, Memory, ParamError

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def run(kind: str, params: dict, samples, memory: Memory | None = None):
    """Feed (minute, value) samples; return [(minute, action)] and the final memory."""
    kind_ = rules.get(kind)
    params = kind_.validate(params)
    memory = memory or Memory()
    actions = []
    for minute, value in samples:
        verdict = kind_.step(params, memory, T0 + timedelta(minutes=minute), value)
        memory = verdict.memory
        if verdict.action:
            actions.append((minute, verdict.action))
    return actions, memory


CO2 = {"above": 1000, "clear": 900, "for_seconds": 600}


def test_threshold_opens_only_after_the_minimum_duration():
    actions, memory = run("threshold", CO2, [(0, 950), (5, 1100), (10, 1200), (15, 1150)])
    assert actions == [(15, Action.OPEN)]
    assert memory.pending_since == T0 + timedelta(minutes=5)


def test_threshold_clears_below_the_hysteresis_band_not_at_the_threshold():
    samples = [(0, 1100), (10, 1100), (15, 950), (20, 999), (25, 901), (30, 899)]
    actions, memory = run("threshold", CO2, samples)
    assert actions == [(10, Action.OPEN), (30, Action.RESOLVE)]
    assert not memory.is_open and memory.pending_since is None


def test_a_flapping_series_restarts_the_duration_and_opens_nothing():
    flapping = [(m, 1100 if m % 10 == 0 else 980) for m in range(0, 120, 5)]
    actions, _ = run("threshold", CO2, flapping)
    assert actions == []


def test_flapping_around_the_threshold_while_open_keeps_one_alert():
    samples = [(0, 1100), (10, 1100)] + [(m, 1010 if m % 10 else 990) for m in range(15, 90, 5)]
    actions, memory = run("threshold", CO2, samples)
    assert actions == [(10, Action.OPEN)]
    assert memory.is_open


def test_late_and_repeated_samples_are_ignored():
    actions, memory = run("threshold", CO2, [(0, 1100), (10, 1100), (5, 100), (10, 100)])
    assert actions == [(10, Action.OPEN)]
    assert memory.last_value == 1100 and memory.is_open


def test_below_thresholds_mirror_above():
    battery = {"below": 3.3, "clear": 3.5, "for_seconds": 0}
    actions, _ = run("threshold", battery, [(0, 3.6), (1, 3.2), (2, 3.4), (3, 3.2), (4, 3.6)])
    assert actions == [(1, Action.OPEN), (4, Action.RESOLVE)]


def test_a_warming_freezer():
    warm = {"above": -15, "clear": -17, "for_seconds": 300}
    actions, _ = run("threshold", warm, [(0, -20), (1, -14), (6, -13), (7, -16), (8, -18)])
    assert actions == [(6, Action.OPEN), (8, Action.RESOLVE)]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"above": 1000, "below": 5}, "above"),
        ({}, "above"),
        ({"above": 1000, "clear": 1100}, "clear"),
        ({"below": 0, "clear": -1}, "clear"),
        ({"above": "high"}, "above"),
        ({"above": 1000, "for_seconds": -1}, "for_seconds"),
        ({"above": 1000, "typo": 1}, "typo"),
    ],
)
def test_threshold_parameters_are_checked_with_the_parameter_named(params, field):
    with pytest.raises(ParamError) as caught:
        rules.get("threshold").validate(params)
    assert field in caught.value.errors


def test_rate_of_change_compares_consecutive_samples_per_unit_of_time():
    params = {"limit": 50, "per_seconds": 60, "direction": "rise"}
    samples = [(0, 500), (1, 520), (2, 600), (3, 640), (4, 600), (5, 500)]
    actions, _ = run("rate_of_change", params, samples)
    assert actions == [(2, Action.OPEN), (3, Action.RESOLVE)]
    both, _ = run("rate_of_change", {**params, "direction": "both"}, samples)
    assert both == [(2, Action.OPEN), (3, Action.RESOLVE), (5, Action.OPEN)]


def test_rate_of_change_does_not_compare_across_an_outage():
    params = {"limit": 10, "max_gap_seconds": 600}
    actions, _ = run("rate_of_change", params, [(0, 500), (60, 900), (61, 905)])
    assert actions == []


def test_anomaly_fires_on_a_spike_and_resolves_when_back_to_normal():
    noise = [(m, 600 + (m * 7919 % 13) - 6) for m in range(30)]
    actions, memory = run("anomaly", {"k": 6, "min_samples": 20}, [*noise, (30, 900), (31, 602)])
    assert actions == [(30, Action.OPEN), (31, Action.RESOLVE)]
    assert len(memory.extra["window"]) == 32


def test_anomaly_judges_nothing_before_min_samples():
    actions, _ = run("anomaly", {"min_samples": 20}, [(0, 1), (1, 1), (2, 1000)])
    assert actions == []


def test_anomaly_min_scale_keeps_a_stuck_sensor_quiet():
    stuck = [(m, 600.0) for m in range(25)]
    fired, _ = run("anomaly", {"min_samples": 20}, [*stuck, (25, 601)])
    assert fired == [(25, Action.OPEN)]
    quiet, _ = run("anomaly", {"min_samples": 20, "min_scale": 5}, [*stuck, (25, 601)])
    assert quiet == []


def test_a_lasting_level_shift_becomes_normal_and_the_anomaly_resolves():
    base = [(m, 600 + (m % 5)) for m in range(40)]
    shifted = [(m, 800 + (m % 5)) for m in range(40, 100)]
    actions, _ = run("anomaly", {"window": 40, "min_samples": 20}, base + shifted)
    assert actions[0] == (40, Action.OPEN)
    assert actions[-1][1] == Action.RESOLVE
