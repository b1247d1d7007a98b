"""The WebSocket protocol of `sensorgrid serve`: uvicorn's, plus a direct frame writer.

A live delta goes to every client following its node, the same frame for each of them
(sensorgrid.live.fanout). Through ASGI each frame would take the connection's whole send
path, once per client: the consumer's and the session middleware's ``send``, uvicorn's
``send``, then websockets framing the text again. This subclass of uvicorn's default
(sans-I/O ``websockets``) protocol gives a connection's ASGI scope a ``FrameWriter``
(``sensorgrid.frames``, read by sensorgrid.live.client_queue) that writes ready-made
frames to the socket: the hub frames a delta once and each follower's queue writes
those bytes.

Only where the bytes are the same on every connection: no extension negotiated (serve
turns permessage-deflate off; see docs/performance.md, Live push), and only while the
connection is open (accepted, no close frame sent or received). Everything else — the
handshake, pings, closing — stays uvicorn's, and writes whole frames to the same
transport, so frames never interleave. Flow control is uvicorn's: ``ready`` is false
while the transport is paused (its buffer above the high-water mark), and the queue
then waits on ``writable``.
"""

import os

import django
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import State

# uvicorn imports this class before the application in each worker process of
# ``serve --workers N`` (a fresh interpreter): Django must be set up before the import
# below reaches models, as sensorgrid.asgi does for itself.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sensorgrid.settings")
django.setup(set_prefix=False)

from sensorgrid.live.client_queue import FRAMES_EXTENSION  # noqa: E402


class FrameWriter:
    """Writes whole frames to one connection (sensorgrid.live.client_queue.FrameWriter)."""

    __slots__ = ("_protocol",)

    def __init__(self, protocol: "LiveWebSocketProtocol") -> None:
        self._protocol = protocol

    def _open(self) -> bool:
        protocol = self._protocol
        return (
            protocol.handshake_complete
            and not protocol.close_sent
            and not protocol.disconnected
            and protocol.conn.state is State.OPEN
            and not protocol.transport.is_closing()
        )

    def ready(self) -> bool:
        return self._protocol.writable.is_set() and self._open()

    def write(self, data: bytes) -> bool:
        if not self._open():
            return False
        self._protocol.transport.write(data)
        return True

    async def writable(self) -> bool:
        # Set again when the transport drains, and when the connection is lost.
        await self._protocol.writable.wait()
        return self._open()


class LiveWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's WebSocket protocol, with a ``FrameWriter`` in the scope (see above)."""

    def handle_connect(self, event) -> None:
        super().handle_connect(event)
        # The application task is created, not started: the scope may still change.
        scope = getattr(self, "scope", None)
        if scope is not None and not self.conn.extensions:
            scope["extensions"][FRAMES_EXTENSION] = FrameWriter(self)
