"""The embedded MQTT broker of the demo: amqtt (pure Python, MQTT 3.1.1), no install.

For a laptop, not for production: it keeps sessions in memory only and is far slower
than Mosquitto (docs/deployment.md). amqtt comes with the ``demo`` extra, so it is
imported only when the broker starts: a core install runs without it.

It is no open broker: ``sensorgrid.brokerauth.embedded`` lets in nodes with their
credentials (publishing only on their own topics) and the demo's service accounts, whose
password files are in ``accounts_dir``; anonymous clients are refused (docs/devices.md).
"""

import asyncio
import logging
import socket
from pathlib import Path
from typing import Any

from sensorgrid import extras

#: the module ``serve`` needs, and what to tell a core install that lacks it
MODULE, EXTRA, FEATURE = "amqtt.broker", "demo", "The embedded MQTT broker"

log = logging.getLogger(__name__)


def available() -> bool:
    """Whether amqtt is installed (without importing it: it is slow to import)."""
    return extras.installed(MODULE)


def missing() -> extras.MissingExtra:
    """The error that tells a core install how to get the embedded broker."""
    return extras.MissingExtra(MODULE, EXTRA, FEATURE)


#: the plugin that authenticates clients and checks their topics against the database
AUTH_PLUGIN = "sensorgrid.brokerauth.embedded.DatabaseAuthPlugin"


def config(host: str, port: int, accounts_dir: Path, cache_seconds: float = 5.0) -> dict[str, Any]:
    return {
        "listeners": {"default": {"type": "tcp", "bind": f"{host}:{port}"}},
        "plugins": {
            AUTH_PLUGIN: {"accounts_dir": str(accounts_dir), "cache_seconds": cache_seconds}
        },
    }


def port_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


async def serve(
    host: str, port: int, stop: asyncio.Event, accounts_dir: Path, cache_seconds: float = 5.0
) -> None:
    """Run the broker until ``stop`` is set; ``MissingExtra`` without amqtt."""
    extras.require(MODULE, EXTRA, FEATURE)
    from sensorgrid.brokerauth.embedded import AuthenticatingBroker

    broker = AuthenticatingBroker(config(host, port, accounts_dir, cache_seconds))
    await broker.start()
    log.info("embedded MQTT broker on mqtt://%s:%s", host, port)
    try:
        await stop.wait()
    finally:
        await broker.shutdown()
