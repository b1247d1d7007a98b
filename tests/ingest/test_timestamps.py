"""Timestamps as devices send them: ISO 8601 or epoch seconds/milliseconds."""

from datetime import UTC, datetime

import pytest

from sensorgrid import timestamps

TEN = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-23T10:00:00+00:00", TEN),
        ("2026-11-23T10:00:00Z", TEN),
        ("2026-11-23T10:00:00", TEN),  # no offset: UTC
        ("2026-11-23T11:00:00+01:00", TEN),  # converted to UTC
        ("2026-11-23 10:00:00Z", TEN),
        ("  2026-11-23T10:00:00Z ", TEN),
        (1795428000, TEN),
        (1795428000000, TEN),  # milliseconds
        ("1795428000", TEN),
        ("1795428000000.0", TEN),
        ("20261123", datetime.fromtimestamp(20261123, tz=UTC)),  # digits are an epoch
    ],
)
def test_what_devices_send_is_read_as_utc(value, expected):
    parsed = timestamps.parse(value)
    assert parsed == expected and parsed.tzinfo is UTC


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2026-13-01T00:00:00", "is not ISO 8601 or an epoch number"),
        ("yesterday", "is not ISO 8601 or an epoch number"),
        (True, "a boolean is not a timestamp"),
        (float("nan"), "timestamp is not finite"),
        (10**30, "is out of range"),
        ([2026], "a list is not a timestamp"),
    ],
)
def test_what_is_not_a_timestamp_is_refused_with_the_reason(value, message):
    with pytest.raises(ValueError, match=message):
        timestamps.parse(value)
