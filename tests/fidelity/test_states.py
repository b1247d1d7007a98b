"""The state rule alone, with a clock the test controls."""

from datetime import UTC, datetime, timedelta

import pytest

from sensorgrid.env import ConfigurationError
from sensorgrid.fidelity.states import Thresholds, judge
from sensorgrid.inventory.models import NodeStatus

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
RULE = Thresholds(missing_after=2, dead_after=24)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_a_node_that_never_sent_anything_is_unknown():
    assert judge(None, 60, at(10**6), RULE).status == NodeStatus.UNKNOWN


@pytest.mark.parametrize(
    ("age", "status", "since"),
    [
        (0, NodeStatus.ALIVE, 0),
        (120, NodeStatus.ALIVE, 0),  # exactly 2 × interval: still alive
        (121, NodeStatus.MISSING, 120),
        (1440, NodeStatus.MISSING, 120),  # exactly 24 × interval: still missing
        (1441, NodeStatus.DEAD, 1440),
        (10**7, NodeStatus.DEAD, 1440),
    ],
)
def test_each_state_begins_at_its_threshold(age, status, since):
    verdict = judge(T0, 60, at(age), RULE)
    assert verdict.status == status
    assert verdict.since == at(since)


def test_the_interval_scales_the_thresholds():
    assert judge(T0, 600, at(1199), RULE).status == NodeStatus.ALIVE
    assert judge(T0, 600, at(1201), RULE).status == NodeStatus.MISSING


def test_configured_factors_change_the_thresholds():
    strict = Thresholds(missing_after=1.5, dead_after=3)
    assert judge(T0, 60, at(91), strict).status == NodeStatus.MISSING
    assert judge(T0, 60, at(181), strict).status == NodeStatus.DEAD


def test_a_last_message_from_a_clock_running_ahead_counts_as_just_now():
    verdict = judge(at(300), 60, T0, RULE)  # last_seen 5 min in "our" future
    assert verdict.status == NodeStatus.ALIVE
    assert verdict.since == T0


@pytest.mark.parametrize(("missing", "dead"), [(0, 24), (24, 2), (3, 3), (-1, 5)])
def test_thresholds_that_make_no_sense_are_refused(missing, dead):
    with pytest.raises(ConfigurationError):
        Thresholds(missing_after=missing, dead_after=dead)
