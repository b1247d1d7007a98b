"""``--backfill``: history written straight through the ingest library, in batches.

The uplinks are those the devices would have sent (same profile, faults and
schedule), decoded by the decoder of the built-in route of their topic, as if they
had been received when they were sent.
"""

from dataclasses import dataclass
from datetime import datetime

from sensorgrid.ingest import pipeline
from sensorgrid.ingest.envelope import Envelope
from sensorgrid.ingest.mqtt.routes import RouteTable, builtin
from sensorgrid.simulator.profiles import Device, Profile
from sensorgrid.simulator.run import Schedule, history

BATCH = 500
ROUTES = RouteTable(builtin())


@dataclass
class Summary:
    messages: int = 0
    samples: int = 0
    dead_letters: int = 0

    def __str__(self) -> str:
        return (
            f"{self.messages} messages, {self.samples} samples stored, "
            f"{self.dead_letters} dead letters"
        )


def backfill(
    profile: Profile,
    schedule: Schedule,
    devices: list[Device],
    start: datetime,
    end: datetime,
    kinds: frozenset[str] = frozenset(),
) -> tuple[Summary, dict[str, int]]:
    """Ingest the devices' uplinks of [start, end); return the summary and each
    device's next tick (where live sending goes on)."""
    summary = Summary()
    batch: list[Envelope] = []
    decoder = ""
    next_ticks: dict[str, int] = {}
    for device, tick, uplink in history(profile, schedule, devices, start, end, kinds):
        match = ROUTES.match(uplink.topic)
        if match is None:  # a profile publishes only on built-in routes
            raise ValueError(f"no built-in route for the topic {uplink.topic!r}")
        decoder = match.route.decoder
        batch.append(
            Envelope(
                source=match.route.source,
                topic=uplink.topic,
                payload=uplink.payload,
                received_at=schedule.at(device, tick),
                content_type="application/json",
                device=match.device,
            )
        )
        next_ticks[device.device_id] = tick + 1
        if len(batch) >= BATCH:
            _ingest(batch, decoder, summary)
            batch = []
    if batch:
        _ingest(batch, decoder, summary)
    return summary, next_ticks


def _ingest(batch: list[Envelope], decoder: str, summary: Summary) -> None:
    result = pipeline.ingest_many(batch, decoder)
    summary.messages += len(batch)
    summary.samples += result.inserted
    summary.dead_letters += sum(len(outcome.dead_letter_ids) for outcome in result.outcomes)
