"""Instants as SensorGrid writes them out: ISO 8601 in UTC, ``Z`` for the offset.

One spelling for the API, the GeoJSON feeds, CSV and the live WebSocket frames
(``2026-11-23T10:00:00.123456Z``; no fraction when there is none), so a client can
compare strings from any of them. Simulated devices write milliseconds instead
(``simulator.profiles.base.device_time``), as real devices send them: not this spelling.
"""

from datetime import UTC, datetime
from typing import overload


@overload
def iso(moment: datetime) -> str: ...
@overload
def iso(moment: None) -> None: ...
def iso(moment: datetime | None) -> str | None:
    """``moment`` (aware) in UTC as ISO 8601 with ``Z``; None stays None."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@overload
def epoch_iso(epoch: float) -> str: ...
@overload
def epoch_iso(epoch: None) -> None: ...
def epoch_iso(epoch: float | None) -> str | None:
    """Epoch seconds as ``iso`` writes them (the live cache keeps epoch seconds)."""
    if epoch is None:
        return None
    return iso(datetime.fromtimestamp(epoch, tz=UTC))
