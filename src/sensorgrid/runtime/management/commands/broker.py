import asyncio
import logging
import signal
from pathlib import Path

from django.conf import settings
from django.core.management import load_command_class
from django.core.management.base import BaseCommand, CommandError

from sensorgrid.runtime import broker


class Command(BaseCommand):
    help = (
        "Run the embedded MQTT broker (amqtt) for the demo; use Mosquitto in production. "
        "`broker sync [--dry-run]` makes Mosquitto's dynamic security match the inventory."
    )

    def run_from_argv(self, argv):
        # `sensorgrid broker sync`: the brokerauth app's broker_sync (docs/deployment.md).
        if argv[2:3] == ["sync"]:
            command = load_command_class("sensorgrid.brokerauth", "broker_sync")
            command.run_from_argv([argv[0], "broker sync", *argv[3:]])
            return
        super().run_from_argv(argv)

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=1883)
        parser.add_argument(
            "--accounts",
            default="",
            help="directory of the service accounts' password files (default: "
            "VAR_DIR/broker; made there if missing). Nodes log in with their credentials.",
        )

    def handle(self, *args, host: str, port: int, accounts: str, **options):
        for noisy in ("amqtt", "transitions"):  # they log every state change at INFO
            logging.getLogger(noisy).setLevel(logging.WARNING)
        if not broker.available():
            raise CommandError(str(broker.missing()))
        if not broker.port_free(host, port):
            raise CommandError(f"{host}:{port} is taken; choose another --port")
        directory = Path(accounts) if accounts else settings.VAR_DIR / "broker"
        if not any(directory.glob("*.password")):
            from sensorgrid.brokerauth.embedded import create_service_accounts

            create_service_accounts(directory)
        asyncio.run(self._run(host, port, directory))

    async def _run(self, host: str, port: int, directory: Path) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await broker.serve(host, port, stop, directory)
