"""The embedded MQTT broker of the demo: amqtt (pure Python, MQTT 3.1.1), no install.

For a laptop, not for production: it keeps sessions in memory only and is far slower
than Mosquitto (docs/deployment.md). amqtt comes with the ``demo`` extra, so it is
imported only when the broker starts: a core install runs without it.
"""

import asyncio
import logging
import socket
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


def config(host: str, port: int) -> dict[str, Any]:
    return {
        "listeners": {"default": {"type": "tcp", "bind": f"{host}:{port}"}},
        "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
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


async def serve(host: str, port: int, stop: asyncio.Event) -> None:
    """Run the broker until ``stop`` is set; ``MissingExtra`` without amqtt."""
    amqtt_broker = extras.require(MODULE, EXTRA, FEATURE)
    broker = amqtt_broker.Broker(config(host, port))
    await broker.start()
    log.info("embedded MQTT broker on mqtt://%s:%s", host, port)
    try:
        await stop.wait()
    finally:
        await broker.shutdown()
