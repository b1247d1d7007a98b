"""Putting samples in through the ingest pipeline, as the devices do."""

import json
from datetime import UTC, datetime, timedelta

from sensorgrid.ingest import pipeline
from sensorgrid.inventory.models import Node
from tests.ingest.conftest import envelope

# A UTC midnight three days back: whole hours and days lie between it and now.
BASE = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=3)


def at(hours: float = 0, minutes: float = 0) -> datetime:
    return BASE + timedelta(hours=hours, minutes=minutes)


def send(node: Node, *samples: tuple[datetime, dict[str, float]]) -> None:
    """One envelope with one message per (ts, values)."""
    messages = [
        {"device": node.device_id, "ts": ts.isoformat(), "values": values} for ts, values in samples
    ]
    outcome = pipeline.ingest(envelope(json.dumps(messages).encode()), "json")
    assert outcome.refused is None and not outcome.rejected, outcome


def iso(ts: datetime) -> str:
    return ts.isoformat().replace("+00:00", "Z")
