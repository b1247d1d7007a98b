"""Validation of decoded messages: pure functions, no I/O."""

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from sensorgrid import storable
from sensorgrid.ingest.cache import QuantityRef
from sensorgrid.ingest.envelope import Message

MAX_FUTURE = timedelta(minutes=5)
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


class Row(NamedTuple):
    """One sample ready for the writer (a named tuple: a batch makes hundreds)."""

    node_id: int
    quantity_id: int
    ts: datetime
    value: float


@dataclass(frozen=True, slots=True)
class Problem:
    reason: str
    detail: str


def timestamp_problem(ts: datetime, now: datetime) -> Problem | None:
    if ts > now + MAX_FUTURE:
        return Problem("bad-timestamp", f"{ts.isoformat()} is in the future (now {now:%H:%M:%S}Z)")
    if ts < EARLIEST:
        return Problem("bad-timestamp", f"{ts.isoformat()} is before {EARLIEST:%Y-%m-%d}")
    return None


def unstorable(message: Message) -> Problem | None:
    """The first id or key of a message that no database can store (NUL, lone surrogate).

    Checked before anything is looked up or written: PostgreSQL refuses such a string
    in a query, and one in a batch used to fail the whole batch.
    """
    if _clean(message):
        return None
    texts = [("device id", message.device)]
    texts += [("device id", device) for device in message.also]
    texts += [("quantity key", key) for key, _ in message.values]
    texts += [("gateway id", radio.gateway) for radio in message.radio]
    for what, text in texts:
        if not isinstance(text, str):
            continue  # a decoder's bug, caught where the value is used
        found = storable.problem(text)
        if found is not None:
            shown = repr(text) if len(text) <= 80 else repr(text[:80]) + "…"
            return Problem("malformed", f"{what} {shown} contains {found}; it cannot be stored")
    return None


def _clean(message: Message) -> bool:
    """True for the common message: one device id and text keys, no unstorable character.

    One search over the joined texts instead of one per text (a joined string has an
    unstorable character exactly when one of its parts has); anything else takes the
    search that names the culprit.
    """
    device = message.device
    if message.also or message.radio or not isinstance(device, str):
        return False
    keys = [key for key, _ in message.values]
    if not all(isinstance(key, str) for key in keys):
        return False
    return storable.problem(device + "".join(keys)) is None


def rows_of(
    message: Message,
    node_id: int,
    quantities: dict[str, QuantityRef],
    received_at: datetime,
    now: datetime,
) -> tuple[list[Row], list[Problem]]:
    """Split a message's values into storable rows and problems with reasons."""
    ts = message.ts or received_at
    problem = timestamp_problem(ts, now)
    if problem:
        return [], [problem]
    rows, problems = [], []
    for key, raw in message.values:
        quantity = quantities.get(key)
        if quantity is None:
            problems.append(Problem("unknown-quantity", f"{key!r} is not a known quantity"))
            continue
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            problems.append(Problem("invalid-value", f"{key}: {raw!r} is not a number"))
            continue
        try:
            value = float(raw)
        except OverflowError:  # an int beyond float range
            value = math.inf
        if not math.isfinite(value):
            problems.append(Problem("invalid-value", f"{key}: {raw!r} is not a finite number"))
            continue
        if (quantity.min_value is not None and value < quantity.min_value) or (
            quantity.max_value is not None and value > quantity.max_value
        ):
            problems.append(
                Problem(
                    "out-of-range",
                    f"{key}: {value:g} is outside the plausible range {_range(quantity)}",
                )
            )
            continue
        rows.append(Row(node_id, quantity.id, ts, value))
    return rows, problems


def _range(quantity: QuantityRef) -> str:
    low = "-∞" if quantity.min_value is None else f"{quantity.min_value:g}"
    high = "∞" if quantity.max_value is None else f"{quantity.max_value:g}"
    return f"{low}…{high}"
