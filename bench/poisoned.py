"""Poisoned-input benchmark: MQTT ingest throughput with one bad message per 250.

    .venv/bin/python bench/poisoned.py [--database postgres://postgres@127.0.0.1:5432/sensorgrid_bench]

Like bench/ingest.py (own Mosquitto, persistent session first, backlog of QoS 1
messages, `sensorgrid ingest` in one process, clock from the first stored sample to
the last), twice: a clean backlog, then one where every 250th message names a device
id no database can store (a NUL character or a lone surrogate, alternately) on a route
without a device in its topic. Each bad message must become a dead letter and cost
only itself (issue 16: ≥ 90 % of the clean throughput). Prints one JSON line.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import ROOT, recreate_database, setup_django, start_mosquitto

from ingest import DEVICES, drain, fixtures

EVERY = 250
POISONS = ("\x00", "\ud800")


def backlog(port: int, devices: list[str], count: int, start: datetime, every: int) -> int:
    """Publish ``count`` messages, every ``every``-th poisoned; return how many are clean."""
    from tests.support.publisher import publish

    from sensorgrid.mqtt import Broker

    clean = 0

    def messages():
        nonlocal clean
        for n in range(count):
            ts = (start + timedelta(seconds=n // DEVICES)).isoformat()
            device = devices[n % DEVICES]
            if every and n % every == every - 1:
                poison = POISONS[(n // every) % len(POISONS)]
                body = {"device": device + poison, "ts": ts, "values": {"co2": 400}}
                # ensure_ascii (the default) sends the surrogate as a \ud800 escape.
                yield "poison/up", json.dumps(body)
            else:
                clean += 1
                yield f"sensorgrid/{device}/up", json.dumps({"ts": ts, "values": {"co2": 400}})

    published = publish(Broker("127.0.0.1", port), messages(), window=10_000)
    if published != count:
        raise RuntimeError(f"only {published} of {count} messages were acknowledged")
    return clean


def dead_letters() -> int:
    from sensorgrid.telemetry.models import DeadLetter

    return DeadLetter.objects.count()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/sensorgrid_bench")
    parser.add_argument("--messages", type=int, default=60_000)
    parser.add_argument("--every", type=int, default=EVERY, help="one poisoned message per N")
    args = parser.parse_args()
    recreate_database(args.database)
    setup_django(args.database)
    devices = fixtures()
    work = Path(tempfile.mkdtemp(prefix="sg-bench-poisoned-"))
    broker, port = start_mosquitto(work / "mosquitto")
    env = {
        **os.environ,
        # The consumer runs the code of this tree, not whatever is installed.
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")])
        ),
        "SENSORGRID_DATABASE_URL": args.database,
        "SENSORGRID_MQTT_ROUTES": "sensorgrid/{device}/up=json,poison/up=json",
        "SENSORGRID_LOG_LEVEL": "WARNING",
    }
    ingest = [sys.executable, "-m", "sensorgrid", "ingest", "--broker", f"mqtt://127.0.0.1:{port}"]
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=20)
    results, letters = {}, {}
    try:
        for name, every in (("clean", 0), ("poisoned", args.every)):
            command = [*ingest, "--client-id", f"bench-{name}", "--idle-exit", "1"]
            subprocess.run(command, env=env, check=True, capture_output=True)
            clean = backlog(port, devices, args.messages, start, every)
            start += timedelta(days=2)
            before = dead_letters()
            # Messages handled per second, bad ones included: they are messages too.
            results[name] = drain([command], env, clean) * args.messages / clean
            letters[name] = dead_letters() - before
    finally:
        broker.terminate()
        broker.wait(timeout=10)
    print(
        json.dumps(
            {
                "bench": "poisoned",
                "database": "postgresql",
                "messages": args.messages,
                "poisoned_every": args.every,
                "dead_letters": letters["poisoned"],
                "clean_msg_per_s": round(results["clean"]),
                "poisoned_msg_per_s": round(results["poisoned"]),
                "poisoned_vs_clean": round(results["poisoned"] / results["clean"], 3),
            }
        )
    )


if __name__ == "__main__":
    main()
