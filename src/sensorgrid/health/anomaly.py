"""Is the dead-letter count or the error rate far above its recent baseline?

A pure, robust rule (no database, no clock): the caller passes per-minute counts
and the current time.

Windows (whole UTC minutes; the current, unfinished minute is left out, so a
spike is seen at most a minute late and never diluted by a partial minute):

- recent: the last ``recent_minutes`` (5) complete minutes;
- baseline: the ``baseline_minutes`` (60) complete minutes before those.

A minute without a row counts as zero values and zero dead letters.

Dead letters per minute: ``recent`` is the mean over the recent window; the
baseline is the per-minute counts. It fires when

    recent ≥ median + max(k × 1.4826 × MAD, floor)

with ``k`` = 6 and ``floor`` = 3 dead letters a minute. 1.4826 × MAD (median
absolute deviation) estimates the standard deviation of normal noise, and unlike
the standard deviation it is not inflated by the spikes it is meant to find. The
floor keeps a quiet baseline (median and MAD 0) from warning on one stray letter,
and a perfectly steady one (MAD 0) from warning on a rise of one letter a minute.

Error rate (dead letters ÷ (values + dead letters)): ``recent`` is pooled over
the recent window (all its dead letters over all its traffic); the baseline is
the rate of each baseline minute that had traffic (idle minutes have no rate).
It fires when

    recent ≥ median + max(k × 1.4826 × MAD, 0.05)

that is at least 5 percentage points above the baseline median, and the recent
window holds at least ``rate_min_dead_letters`` (5) dead letters, so one bad
message among a handful does not read as a 20 % error rate.

A rate that is already high in the baseline moves the median with it, so a
steady fault warns once (when it starts) and not for the next hour. See
docs/operations.md, "Status page", for the trade-offs.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sensorgrid.robust import NORMAL_CONSISTENCY, Spread, spread


@dataclass(frozen=True, slots=True)
class MinuteCount:
    minute: datetime  # start of the minute
    values: int
    dead_letters: int


@dataclass(frozen=True, slots=True)
class Rule:
    recent_minutes: int = 5
    baseline_minutes: int = 60
    k: float = 6.0
    dead_letter_floor: float = 3.0  # dead letters a minute above the median, at least
    rate_floor: float = 0.05  # error rate above the median, at least (5 points)
    rate_min_dead_letters: int = 5  # in the recent window, for the rate to fire

    @property
    def history_minutes(self) -> int:
        return self.recent_minutes + self.baseline_minutes


DEFAULT_RULE = Rule()


@dataclass(frozen=True, slots=True)
class Finding:
    metric: str  # "dead_letters_per_minute" or "error_rate"
    recent: float
    baseline_median: float
    threshold: float
    firing: bool
    explanation: str


def threshold(baseline: Spread, k: float, floor: float) -> float:
    return baseline.median + max(k * NORMAL_CONSISTENCY * baseline.mad, floor)


def windows(
    minutes: Iterable[MinuteCount], now: datetime, rule: Rule
) -> tuple[list[MinuteCount], list[MinuteCount]]:
    """The baseline and recent minutes, oldest first, with missing minutes as zeros."""
    current = now.replace(second=0, microsecond=0)
    by_minute = {m.minute: m for m in minutes}
    span = [current - timedelta(minutes=n) for n in range(rule.history_minutes, 0, -1)]
    filled = [by_minute.get(at) or MinuteCount(at, 0, 0) for at in span]
    return filled[: rule.baseline_minutes], filled[rule.baseline_minutes :]


def assess(
    minutes: Iterable[MinuteCount], now: datetime, rule: Rule = DEFAULT_RULE
) -> tuple[Finding, Finding]:
    """Both findings, firing or not: dead letters per minute, then the error rate."""
    baseline, recent = windows(minutes, now, rule)
    return dead_letters(baseline, recent, rule), error_rate(baseline, recent, rule)


def dead_letters(
    baseline: Sequence[MinuteCount], recent: Sequence[MinuteCount], rule: Rule
) -> Finding:
    base = spread([m.dead_letters for m in baseline])
    now_rate = sum(m.dead_letters for m in recent) / max(len(recent), 1)
    limit = threshold(base, rule.k, rule.dead_letter_floor)
    firing = bool(recent) and now_rate >= limit
    return Finding(
        "dead_letters_per_minute",
        now_rate,
        base.median,
        limit,
        firing,
        f"{now_rate:.1f} dead letters/min over the last {len(recent)} min; baseline median "
        f"{base.median:.1f}/min, MAD {base.mad:.1f}, warns at ≥ {limit:.1f}/min"
        + (" — far above the baseline" if firing else ""),
    )


def error_rate(
    baseline: Sequence[MinuteCount], recent: Sequence[MinuteCount], rule: Rule
) -> Finding:
    base = spread([_rate(m.dead_letters, m.values) for m in baseline if m.values + m.dead_letters])
    letters = sum(m.dead_letters for m in recent)
    traffic = letters + sum(m.values for m in recent)
    now_rate = _rate(letters, traffic - letters) if traffic else 0.0
    limit = threshold(base, rule.k, rule.rate_floor)
    firing = now_rate >= limit and letters >= rule.rate_min_dead_letters
    return Finding(
        "error_rate",
        now_rate,
        base.median,
        limit,
        firing,
        f"{now_rate:.1%} of the last {len(recent)} min's traffic dead-lettered "
        f"({letters} of {traffic}); baseline median {base.median:.1%}, MAD {base.mad:.1%}, "
        f"warns at ≥ {limit:.1%} with ≥ {rule.rate_min_dead_letters} dead letters"
        + (" — far above the baseline" if firing else ""),
    )


def _rate(dead_letters: int, values: int) -> float:
    return dead_letters / (dead_letters + values)
