"""The simulator: devices generate on their schedule into the offline queue, a
transport drains it.

Device ``n`` of ``count`` sends at the instants ``k / rate + (n - 1) / (count · rate)``
seconds after the Unix epoch (tick ``k``), so the devices of a run are spread over
each period. The queue saves each device's next tick: a restarted simulator first
generates the ticks it missed (at most the queue limit), with the times they were
due, then goes on live.
"""

import logging
import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Protocol

from sensorgrid.simulator import faults
from sensorgrid.simulator.profiles import Device, Profile, Uplink
from sensorgrid.simulator.queue import OfflineQueue

log = logging.getLogger(__name__)


class Transport(Protocol):
    """How uplinks leave (``transports.Mqtt``, ``transports.Http``)."""

    def start(self) -> None: ...

    def pump(self, queue: OfflineQueue) -> None:
        """Send what the queue holds; remove what the other side acknowledged."""

    def stop(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Schedule:
    """When the devices of a run send."""

    rate: float  # messages per second per device
    count: int

    def __post_init__(self) -> None:
        if not self.rate > 0:
            raise ValueError("the rate must be above 0 messages per second")

    def at(self, device: Device, tick: int) -> datetime:
        """The instant of the device's tick, to the millisecond."""
        period = 1 / self.rate
        milliseconds = round((tick * period + (device.index - 1) * period / self.count) * 1000)
        return datetime.fromtimestamp(milliseconds / 1000, tz=UTC)

    def first_after(self, device: Device, moment: datetime) -> int:
        """The first tick of the device at or after ``moment``."""
        period = 1 / self.rate
        offset = (device.index - 1) * period / self.count
        tick = math.ceil((moment.timestamp() - offset) * self.rate)
        while self.at(device, tick) < moment:
            tick += 1
        return tick


def uplink(
    profile: Profile, device: Device, at: datetime, kinds: frozenset[str], sequence: int
) -> Uplink | None:
    """What the device sends at ``at`` with the faults ``kinds``: None if nothing."""
    faulty = faults.apply(profile, device, at, kinds)
    if faulty is None:
        return None
    return profile.encode(device, faulty.values, faulty.ts, sequence)


def devices(
    profile: Profile, count: int, seed: int, device_ids: Sequence[str] = ()
) -> list[Device]:
    """The run's devices; ``device_ids`` names them (device n the nth id) instead of the
    profile, so a simulator can feed nodes that already exist (the demo's)."""
    if device_ids:
        return [
            replace(profile.device(index, seed), device_id=device_id)
            for index, device_id in enumerate(device_ids, start=1)
        ]
    return [profile.device(index, seed) for index in range(1, count + 1)]


def history(
    profile: Profile,
    schedule: Schedule,
    device_list: list[Device],
    start: datetime,
    end: datetime,
    kinds: frozenset[str] = frozenset(),
) -> Iterator[tuple[Device, int, Uplink]]:
    """Every uplink of the devices in [start, end), in time order."""
    ticks = {d.device_id: schedule.first_after(d, start) for d in device_list}
    sequences = dict.fromkeys(ticks, 0)
    while True:
        due = [(schedule.at(d, ticks[d.device_id]), d) for d in device_list]
        at, device = min(due, key=lambda pair: pair[0])
        if at >= end:
            return
        tick = ticks[device.device_id]
        ticks[device.device_id] = tick + 1
        message = uplink(profile, device, at, kinds, sequences[device.device_id])
        if message is not None:
            sequences[device.device_id] += 1
            yield device, tick, message


@dataclass
class Simulator:
    """Runs the devices live until ``stop()`` or ``duration`` (see the module docstring)."""

    profile: Profile
    device_list: list[Device]
    schedule: Schedule
    queue: OfflineQueue
    transport: "Transport"
    kinds: frozenset[str] = frozenset()
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    stopping: threading.Event = field(default_factory=threading.Event)
    generated: int = 0
    #: called with (device, tick, uplink) for each generated message (tests)
    on_generate: Callable[[Device, int, Uplink], None] | None = None

    def stop(self) -> None:
        """Stop soon; what is not acknowledged stays in the queue (safe from a signal)."""
        self.stopping.set()

    def run(self, duration: float | None = None, drain: float = 10) -> None:
        """Generate and send until stopped or ``duration`` seconds passed, then give the
        transport up to ``drain`` seconds to empty the queue (not when stopped)."""
        ends = None if duration is None else time.monotonic() + duration
        ticks = self._resume()
        self.transport.start()
        try:
            while not self.stopping.is_set() and (ends is None or time.monotonic() < ends):
                self._generate(ticks, self.clock())
                self.transport.pump(self.queue)
                soonest = min(self.schedule.at(d, ticks[d.device_id]) for d in self.device_list)
                wait = (soonest - self.clock()).total_seconds()
                self.stopping.wait(min(max(wait, 0.0), 0.05))
            if not self.stopping.is_set():
                deadline = time.monotonic() + drain
                while self.queue.pending() and time.monotonic() < deadline:
                    self.transport.pump(self.queue)
                    if self.stopping.wait(0.02):
                        break
            self.transport.pump(self.queue)  # the acknowledgements that arrived last
        finally:
            self.transport.stop()

    def _resume(self) -> dict[str, int]:
        """Each device's next tick: saved in the queue, else the first one from now."""
        now = self.clock()
        ticks = {}
        for device in self.device_list:
            first = self.schedule.first_after(device, now)
            saved = self.queue.next_tick(device.device_id)
            if saved is None:
                ticks[device.device_id] = first
            else:
                # Catch up on missed ticks, but not beyond what the queue can hold.
                ticks[device.device_id] = max(saved, first - self.queue.limit)
        return ticks

    def _generate(self, ticks: dict[str, int], now: datetime) -> None:
        for device in self.device_list:
            tick = ticks[device.device_id]
            while self.schedule.at(device, tick) <= now and not self.stopping.is_set():
                at = self.schedule.at(device, tick)
                sequence = self.queue.next_sequence(device.device_id)
                message = uplink(self.profile, device, at, self.kinds, sequence)
                tick += 1
                if message is None:
                    self.queue.skip(device.device_id, tick)
                    continue
                self.queue.put(device.device_id, message.topic, message.payload, tick)
                self.generated += 1
                if self.on_generate is not None:
                    self.on_generate(device, tick - 1, message)
            ticks[device.device_id] = tick
