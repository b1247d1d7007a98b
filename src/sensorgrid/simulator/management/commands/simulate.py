import contextlib
import logging
import os
import re
import signal
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from sensorgrid.env import ConfigurationError
from sensorgrid.ingest.mqtt.broker import from_settings
from sensorgrid.simulator import faults, profiles, registration, transports
from sensorgrid.simulator.backfill import backfill
from sensorgrid.simulator.queue import OfflineQueue
from sensorgrid.simulator.run import Schedule, Simulator, devices

log = logging.getLogger("sensorgrid.simulator")

#: profiles whose payload is SensorGrid JSON, the format of POST /api/v1/ingest/
HTTP_PROFILES = ("room", "outdoor")
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def period(text: str) -> timedelta:
    """``30d``, ``12h``, ``90m``, ``45s`` → timedelta."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd])\s*", text)
    if not found:
        raise CommandError(f"--backfill {text!r}: give a number and a unit: 45s, 90m, 12h, 30d")
    return timedelta(seconds=float(found[1]) * UNITS[found[2]])


class Command(BaseCommand):
    help = (
        "Simulate devices that send like real ones (profiles, faults, an offline queue). "
        "SIGTERM/SIGINT stop cleanly; what the broker did not acknowledge stays queued."
    )

    def add_arguments(self, parser):
        parser.add_argument("--profile", required=True, choices=profiles.available())
        parser.add_argument("--count", type=int, default=3, help="number of devices")
        parser.add_argument(
            "--rate", type=float, default=0.2, help="messages per second per device"
        )
        parser.add_argument("--seed", type=int, default=1, help="same seed, same data")
        parser.add_argument(
            "--device-ids",
            default="",
            help="comma-separated device ids, one device each (instead of --count and the "
            "profile's own ids): feed nodes that already exist",
        )
        parser.add_argument(
            "--duration", type=float, default=None, metavar="SECONDS", help="default: until stopped"
        )
        parser.add_argument("--transport", choices=("mqtt", "http"), default="mqtt")
        parser.add_argument(
            "--broker",
            default="",
            help="mqtt://host:1883 or mqtts://host:8883 (default SENSORGRID_MQTT_URL); the "
            "account: SENSORGRID_MQTT_USERNAME/_PASSWORD unless the URL names one",
        )
        parser.add_argument(
            "--ca-file", default="", help="CA to verify an mqtts:// broker with (settings)"
        )
        parser.add_argument("--cert-file", default="", help="client certificate (with --key-file)")
        parser.add_argument("--key-file", default="", help="client certificate's key")
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="for --transport http")
        parser.add_argument(
            "--credential",
            default="",
            help="ingest credential for --transport http (an organization ingest key); "
            "with --register each node gets a new credential instead",
        )
        parser.add_argument(
            "--faults", default="", help=f"comma-separated: {', '.join(faults.KINDS)}"
        )
        parser.add_argument("--register", action="store_true", help="create missing nodes")
        parser.add_argument("--organization", default="", help="organization slug (--register)")
        parser.add_argument(
            "--queue", default="", help="offline queue file (default: VAR_DIR/simulator/…)"
        )
        parser.add_argument("--queue-limit", type=int, default=10_000, help="messages per device")
        parser.add_argument("--backfill", default="", help="history to write first: 30d, 12h …")
        parser.add_argument(
            "--outlier-model",
            action="store_true",
            help="camera with --register: a node without an outlier model gets one trained "
            "on a rendered normal day (no anomalies), beside sending (docs/images.md)",
        )

    def handle(self, *args, **options):
        profile = profiles.get(options["profile"])
        if options["count"] < 1:
            raise CommandError("--count must be at least 1")
        try:
            kinds = faults.parse(options["faults"])
            count = len([name for name in options["device_ids"].split(",") if name.strip()])
            schedule = Schedule(options["rate"], count or options["count"])
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if options["transport"] == "http" and profile.key not in HTTP_PROFILES:
            raise CommandError(
                f"--transport http sends SensorGrid JSON: use --profile "
                f"{' or '.join(HTTP_PROFILES)}, or --transport mqtt for {profile.key!r}"
            )
        if options["register"] and not options["organization"]:
            raise CommandError("--register needs --organization <slug>")
        if options["outlier_model"] and not (options["register"] and profile.key == "camera"):
            raise CommandError("--outlier-model is for --profile camera with --register")
        if options["transport"] == "http" and not (options["register"] or options["credential"]):
            raise CommandError("--transport http needs --credential (an ingest key) or --register")
        if options["queue_limit"] < 1:
            raise CommandError(
                f"--queue-limit {options['queue_limit']}: give the most messages a device "
                "keeps while the broker is unreachable, at least 1"
            )
        history = period(options["backfill"]) if options["backfill"] else None
        broker = self._broker(options) if options["transport"] == "mqtt" else None
        names = [name.strip() for name in options["device_ids"].split(",") if name.strip()]
        if len(set(names)) != len(names):
            raise CommandError(f"--device-ids {options['device_ids']!r}: an id is repeated")
        device_list = devices(profile, options["count"], options["seed"], names)
        # Before anything is registered: a queue that cannot be written is the user's
        # to fix, and nothing should have changed in the database by then.
        queue_path = Path(
            options["queue"]
            or settings.VAR_DIR / "simulator" / f"{profile.key}-{options['seed']}.sqlite3"
        )
        queue = self._open_queue(queue_path, options["queue_limit"])
        try:
            self._simulate(
                options, profile, kinds, schedule, device_list, queue, queue_path, history, broker
            )
        finally:
            queue.close()

    def _open_queue(self, path: Path, limit: int) -> OfflineQueue:
        try:
            return OfflineQueue(path, limit)
        except (OSError, sqlite3.Error) as exc:
            raise CommandError(
                f"--queue {path}: cannot open the offline queue there ({exc}); "
                "give a file in a directory this user can write"
            ) from None

    def _simulate(
        self, options, profile, kinds, schedule, device_list, queue, queue_path, history, broker
    ):
        nodes = {}
        if options["register"]:
            try:
                nodes = registration.register(profile, device_list, options["organization"])
            except registration.RegistrationError as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(f"registered: {len(nodes)} nodes in {options['organization']}")
        if history is not None:
            end = datetime.now(UTC)
            summary, _ = backfill(profile, schedule, device_list, end - history, end, kinds)
            for device in device_list:  # live sending goes on from here
                queue.skip(device.device_id, schedule.first_after(device, end))
            self.stdout.write(f"backfill: {summary}")
            if options["duration"] is not None and options["duration"] <= 0:
                return
        transport = self._transport(options, profile, nodes, broker)
        simulator = Simulator(profile, device_list, schedule, queue, transport, kinds)
        if options["outlier_model"]:
            # Beside sending, not before: a few seconds to a minute on a busy machine.
            threading.Thread(
                target=self._outlier_models, args=(device_list, nodes), daemon=True
            ).start()
        previous = {
            signum: signal.signal(signum, lambda *_: simulator.stop())
            for signum in (signal.SIGTERM, signal.SIGINT)
        }
        try:
            simulator.run(options["duration"])
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        self.stdout.write(
            f"simulated: {simulator.generated} messages generated, "
            f"{transport.published} acknowledged, {queue.pending()} queued, "
            f"{queue.dropped()} dropped (queue {queue_path})"
        )

    def _outlier_models(self, device_list, nodes) -> None:
        from sensorgrid.simulator import normal_day

        with contextlib.suppress(OSError):
            # Background work: this thread (Linux: nice is per thread) yields the CPU to
            # the sending and, in the demo, to the server starting beside it.
            os.nice(10)
        try:
            for device in device_list:
                model = normal_day.first_model(nodes[device.device_id], device.seed, device.index)
                self.stdout.write(
                    f"outlier model: {device.device_id} version {model.version}, trained on "
                    f"{model.pictures} normal pictures"
                )
        except Exception as exc:  # the pictures still go out, unscored
            self.stderr.write(f"outlier model not trained: {exc}")
        finally:
            connection.close()

    def _broker(self, options):
        try:
            return from_settings(
                options["broker"], options["ca_file"], options["cert_file"], options["key_file"]
            )
        except ConfigurationError as exc:
            raise CommandError(str(exc)) from None

    def _transport(self, options, profile, nodes, broker):
        if options["transport"] == "http":
            credentials = registration.issue_credentials(nodes) if nodes else {}
            if not credentials and not options["credential"]:
                raise CommandError(
                    "--transport http needs --credential (an ingest key) or --register"
                )
            return transports.Http(
                options["url"], lambda device: credentials.get(device, options["credential"])
            )
        return transports.Mqtt(broker, f"sensorgrid-sim-{profile.key}-{options['seed']}")
