"""The anomaly rule's trade-off: detection against false positives, at several k.

    .venv/bin/python bench/anomaly.py [--devices 20] [--days 7] [--interval 60]
                                      [--magnitude 250] [--per-day 4] [--window 60] [--min-scale 0]
                                      [--faults dropout,stuck,spikes] [--k 3,4,5,6,8,10]

No database, no broker: the simulator's classroom profile (CO2 following the school
day: lessons ramp it up by ~1,000 ppm, breaks vent it) is sampled every
``--interval`` seconds for ``--days`` days per device, with the simulator's fault
modes applied (dropout: gaps; stuck: repeated values; spikes: out-of-range values,
which ingest refuses, so they never reach a rule and are dropped here too). Into
that, ``--per-day`` anomalies per device and day are injected at random instants:
one sample shifted by ±``--magnitude`` ppm (a glitch, still in the plausible range).
Each series runs through the real rule kind (``sensorgrid.alerts.rules.anomaly``).

- detection rate: injected glitches whose sample the rule judged anomalous (z > k);
- false positives per day per series: alerts opened on a sample without a glitch.

Prints one JSON line; docs/alerts.md quotes a run.
"""

import argparse
import json
import os
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sensorgrid.settings")

import django

django.setup()

from sensorgrid.alerts import rules  # noqa: E402
from sensorgrid.alerts.rules.base import Action, Memory  # noqa: E402
from sensorgrid.simulator import faults  # noqa: E402
from sensorgrid.simulator.profiles import base as profiles  # noqa: E402

START = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday: five school days, a weekend


def series(device, days: int, interval: int, kinds: frozenset[str]):
    """(ts, co2) the pipeline would store for one simulated classroom monitor."""
    profile = profiles.get("room")
    at, end = START, START + timedelta(days=days)
    while at < end:
        sent = faults.apply(profile, device, at, kinds)
        if sent is not None and not (sent.spiked and sent.values["co2"] > 2000):
            yield at, float(sent.values["co2"])
        at += timedelta(seconds=interval)


def run(args, k: float) -> dict:
    kind = rules.get("anomaly")
    params = kind.validate(
        {
            "k": k,
            "window": args.window,
            "min_samples": min(20, args.window),
            "min_scale": args.min_scale,
        }
    )
    injected = detected = false_positives = 0
    kinds = faults.parse(args.faults)
    profile = profiles.get("room")
    for index in range(1, args.devices + 1):
        device = profile.device(index, args.seed)
        points = list(series(device, args.days, args.interval, kinds))
        chooser = random.Random(f"{args.seed}-{index}")
        glitches = set(chooser.sample(range(len(points)), args.per_day * args.days))
        memory = Memory()
        for i, (ts, value) in enumerate(points):
            glitch = i in glitches
            if glitch:
                value += args.magnitude * chooser.choice((-1, 1))
                value = min(2000.0, max(400.0, value))
                injected += 1
            verdict = kind.step(params, memory, ts, value)
            memory = verdict.memory
            opened = verdict.action is Action.OPEN
            if glitch and verdict.detail:  # judged anomalous (opened, or one was open)
                detected += 1
            elif opened:
                false_positives += 1
    return {
        "k": k,
        "detection_rate": round(detected / injected, 3) if injected else None,
        "false_positives_per_day_per_series": round(
            false_positives / (args.devices * args.days), 3
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=20)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--interval", type=int, default=60)
    parser.add_argument("--magnitude", type=float, default=250)
    parser.add_argument("--per-day", type=int, default=4)
    parser.add_argument("--window", type=int, default=60)
    parser.add_argument("--min-scale", type=float, default=0.0)
    parser.add_argument("--faults", default="dropout,stuck,spikes")
    parser.add_argument("--k", default="3,4,5,6,8,10")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    results = [run(args, float(k)) for k in args.k.split(",")]
    print(
        json.dumps(
            {
                "bench": "anomaly",
                "profile": "room",
                "devices": args.devices,
                "days": args.days,
                "interval_s": args.interval,
                "faults": args.faults,
                "glitch_ppm": args.magnitude,
                "glitches_per_day": args.per_day,
                "window": args.window,
                "min_scale": args.min_scale,
                "results": results,
            }
        )
    )


if __name__ == "__main__":
    main()
