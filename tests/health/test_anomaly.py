"""The dead-letter anomaly rule, a pure function: edge cases and properties."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from sensorgrid.health.anomaly import MinuteCount, Rule, assess, threshold
from sensorgrid.robust import spread

NOW = datetime(2026, 3, 1, 12, 0, 30, tzinfo=UTC)  # half-way through the 12:00 minute
CURRENT = NOW.replace(second=0)


def ago(n: int) -> datetime:
    return CURRENT - timedelta(minutes=n)


def history(baseline, recent) -> list[MinuteCount]:
    """``baseline``: 60 (values, dead letters), oldest first; ``recent``: 5, likewise."""
    assert len(baseline) == 60 and len(recent) == 5
    pairs = list(baseline) + list(recent)
    return [MinuteCount(ago(65 - n), v, d) for n, (v, d) in enumerate(pairs)]


def test_empty_history_fires_nothing():
    letters, rate = assess([], NOW)
    assert (letters.recent, letters.baseline_median, letters.firing) == (0, 0, False)
    assert (rate.recent, rate.baseline_median, rate.firing) == (0, 0, False)
    assert letters.threshold == 3 and rate.threshold == 0.05


def test_a_quiet_platform_does_not_warn_on_a_stray_letter():
    letters, rate = assess(history([(0, 0)] * 60, [(0, 0)] * 4 + [(0, 1)]), NOW)
    assert not letters.firing and not rate.firing  # 100 % errors, but one letter


def test_a_flat_baseline_with_zero_mad_needs_the_floor_above_its_median():
    baseline = [(100, 10)] * 60
    assert spread([10] * 60).mad == 0
    below, _ = assess(history(baseline, [(100, 12)] * 5), NOW)
    at, _ = assess(history(baseline, [(100, 13)] * 5), NOW)
    assert (below.threshold, below.firing) == (13, False)
    assert at.firing


def test_a_spike_fires_both_rules_and_says_why():
    baseline = [(200, n % 3) for n in range(60)]  # 0–2 letters a minute, ~0.5 % errors
    letters, rate = assess(history(baseline, [(200, 40)] * 5), NOW)
    assert letters.firing and rate.firing
    assert letters.recent == 40 and letters.baseline_median == 1
    assert "far above the baseline" in letters.explanation
    assert rate.recent == 40 / 240


def test_a_steady_high_rate_already_in_the_baseline_does_not_fire():
    baseline = [(100, 30 + (n % 7) - 3) for n in range(60)]  # 27–33 letters, ~23 % errors
    letters, rate = assess(history(baseline, [(100, 33)] * 5), NOW)
    assert not letters.firing and not rate.firing


def test_more_traffic_with_the_same_error_rate_fires_only_the_count_rule():
    baseline = [(100, 5)] * 60
    letters, rate = assess(history(baseline, [(1000, 50)] * 5), NOW)
    assert letters.firing and not rate.firing


def test_missing_minutes_count_as_zero_and_the_current_minute_is_left_out():
    minutes = [MinuteCount(ago(1), 0, 50), MinuteCount(CURRENT, 0, 1000)]
    letters, _ = assess(minutes, NOW)
    assert letters.recent == 10  # 50 over 5 minutes, the unfinished minute ignored
    assert letters.baseline_median == 0 and letters.firing


def test_idle_baseline_minutes_have_no_error_rate():
    baseline = [(0, 0)] * 50 + [(100, 20)] * 10  # idle, then 16.7 % errors
    _, rate = assess(history(baseline, [(100, 20)] * 5), NOW)
    assert rate.baseline_median == 20 / 120 and not rate.firing


counts = st.integers(min_value=0, max_value=500)
minutes = st.tuples(counts, counts)


@given(st.lists(minutes, min_size=60, max_size=60))
def test_a_recent_window_at_the_baseline_median_never_fires(baseline):
    median = spread([d for _, d in baseline]).median
    recent = [(0, int(median))] * 5
    letters, _ = assess(history(baseline, recent), NOW)
    assert not letters.firing


@given(st.lists(minutes, min_size=60, max_size=60), counts, st.integers(0, 500))
def test_more_dead_letters_never_silence_a_warning(baseline, level, more):
    lower, _ = assess(history(baseline, [(100, level)] * 5), NOW)
    higher, _ = assess(history(baseline, [(100, level + more)] * 5), NOW)
    assert higher.firing or not lower.firing


@given(st.lists(st.floats(0, 1e6), max_size=80), st.floats(0, 20), st.floats(0.001, 100))
def test_the_threshold_is_always_at_least_the_floor_above_the_median(sample, k, floor):
    base = spread(sample)
    assert threshold(base, k, floor) >= base.median + floor


def test_the_rule_can_be_tuned():
    baseline = [(100, 0)] * 60
    strict, _ = assess(history(baseline, [(100, 2)] * 5), NOW, Rule(dead_letter_floor=1))
    assert strict.firing
