import functools
import logging
import signal
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tenacity import Retrying, retry_if_exception_type, wait_exponential_jitter

from sensorgrid.env import ConfigurationError
from sensorgrid.ingest.mqtt import config
from sensorgrid.ingest.mqtt.client import BrokerUnavailable, Connection
from sensorgrid.ingest.mqtt.routes import RouteTable
from sensorgrid.ingest.mqtt.service import TRANSIENT, Ingester

log = logging.getLogger("sensorgrid.ingest.mqtt")


class Command(BaseCommand):
    help = (
        "Run the MQTT ingest service: subscribe to the routes' topics, store each batch, "
        "acknowledge it after the commit. SIGTERM/SIGINT finish the current batch and exit. "
        "Exits 1 when the first broker connection fails (unknown host, refused credentials, "
        "or no connection within SENSORGRID_MQTT_CONNECT_TIMEOUT); later outages are retried."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--broker", default="", help="mqtt://user:pass@host:1883 (settings)")
        parser.add_argument(
            "--instance",
            type=int,
            default=0,
            help="Number of this process on the host; part of the default client id.",
        )
        parser.add_argument("--client-id", default=None, help="MQTT client id (stable!)")
        parser.add_argument("--shared-group", default=None, help="$share group to split load")
        parser.add_argument("--batch-size", type=int, default=None)
        parser.add_argument("--batch-ms", type=int, default=None)
        parser.add_argument("--metrics-port", type=int, default=None)
        parser.add_argument(
            "--idle-exit",
            type=float,
            default=None,
            metavar="SECONDS",
            help="Exit once no message came for this long (backfills, benchmarks).",
        )
        parser.add_argument("--routes", action="store_true", help="Print the route table and exit.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            table = self._route_table()
            settings_ = config.options(
                url=options["broker"],
                instance=options["instance"],
                client_id=options["client_id"],
                shared_group=options["shared_group"],
                batch_size=options["batch_size"],
                batch_seconds=options["batch_ms"] / 1000 if options["batch_ms"] else None,
                metrics_port=options["metrics_port"],
            )
        except ConfigurationError as exc:
            raise CommandError(str(exc)) from None
        if options["routes"]:
            for route in table.routes:
                self.stdout.write(f"{route.pattern:45} {route.decoder:15} {route.source}")
            return
        # A service that starts against a wrong address or password must say so and
        # fail (its supervisor shows it); once connected, a broker outage is waited out.
        timeout = settings.SENSORGRID_MQTT_CONNECT_TIMEOUT
        connection_class = functools.partial(
            Connection, first_connect_timeout=timeout if timeout > 0 else None
        )
        ingester = Ingester(settings_, table, connection_class=connection_class)

        def stop(*_: object) -> None:
            ingester.connection.abandoned.set()
            ingester.stop()

        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, stop)
        try:
            ingester.run(idle_exit=options["idle_exit"])
        except BrokerUnavailable as exc:
            raise CommandError(str(exc)) from None

    def _route_table(self) -> RouteTable:
        """The route table; waits for the database instead of crash-looping."""
        for attempt in Retrying(
            retry=retry_if_exception_type(TRANSIENT),
            wait=wait_exponential_jitter(multiplier=0.5, max=15),
            before_sleep=lambda state: log.warning(
                "database unavailable (%s); waiting to read the routes",
                state.outcome.exception(),  # type: ignore[union-attr]  # set before a sleep
            ),
        ):
            with attempt:
                return config.route_table()
        raise AssertionError("unreachable: without a stop condition Retrying only returns")
