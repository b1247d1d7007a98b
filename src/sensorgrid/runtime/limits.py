"""Slow-client limits of `sensorgrid serve`: header and body read timeouts, a connection cap.

uvicorn closes idle keep-alive connections, but nothing else: a client that opens a
connection and sends its request line or headers a byte at a time (or never finishes
its body) holds a socket, a file descriptor and a little memory for as long as it
likes, and a few hundred of them exhaust a worker ("slowloris"). uvicorn offers no
read timeout, so this subclass of its httptools protocol adds them:

- the request headers must be complete within ``SENSORGRID_SERVE_HEADER_TIMEOUT``
  seconds of the connection opening (or of the first byte of the next request on a
  kept-alive connection), and at most ``MAX_HEADER_BYTES`` long; otherwise 408 / 431;
- a request body may pause at most ``SENSORGRID_SERVE_BODY_TIMEOUT`` seconds between
  two reads (nginx's ``client_body_timeout``); not while the application itself has
  stopped reading;
- beyond ``SENSORGRID_SERVE_MAX_CONNECTIONS`` open connections (WebSockets included) a
  new one is answered 503 and closed at once, before anything is read.

Once a connection is upgraded to a WebSocket the timers are gone: a live feed stays
open as long as the client wants it (its pings are the WebSocket protocol's).
Production should still sit behind a reverse proxy (docs/deployment.md).
"""

import asyncio
import logging
import time

from django.conf import settings
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger(__name__)

#: request line plus headers; llhttp itself has no limit (h11's default is 16 KiB)
MAX_HEADER_BYTES = 64 * 1024
#: at most one "connection refused" log line per this many seconds (an attack floods)
LOG_EVERY_SECONDS = 10


def _response(status: bytes, text: bytes) -> bytes:
    return (
        b"HTTP/1.1 " + status + b"\r\ncontent-type: text/plain; charset=utf-8\r\n"
        b"content-length: " + str(len(text)).encode() + b"\r\nconnection: close\r\n\r\n" + text
    )


REQUEST_TIMEOUT = _response(b"408 Request Timeout", b"Request Timeout")
HEADERS_TOO_LARGE = _response(
    b"431 Request Header Fields Too Large", b"Request Header Fields Too Large"
)
SERVICE_UNAVAILABLE = _response(b"503 Service Unavailable", b"Service Unavailable")


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the limits of the module docstring."""

    #: seconds, from machine boot: a process may start with it near 0, so the last
    #: refusal logged starts at -inf (0.0 hid the first refusals of a fresh boot)
    clock = staticmethod(time.monotonic)
    _last_refusal_logged = float("-inf")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)  # loads the application, hence Django's settings
        self.header_timeout = settings.SENSORGRID_SERVE_HEADER_TIMEOUT
        self.body_timeout = settings.SENSORGRID_SERVE_BODY_TIMEOUT
        self.max_connections = settings.SENSORGRID_SERVE_MAX_CONNECTIONS
        self._header_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._header_bytes = 0
        self._in_body = False
        self._upgraded = False

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        if self.max_connections and len(self.connections) > self.max_connections:
            self._refuse_over_limit()
            return
        # A connection that never sends a byte is cut too.
        self._arm_header_timer()

    def connection_lost(self, exc) -> None:
        self._cancel_timers()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if not self._in_body and not self._upgraded:
            # Between requests: these bytes start (or continue) the next request's
            # headers, even bytes the parser skips (blank lines) without a callback.
            self._header_bytes += len(data)
            if self._header_bytes > MAX_HEADER_BYTES:
                self._close_with(HEADERS_TOO_LARGE)
                return
            self._arm_header_timer()
        super().data_received(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm_header_timer()

    def on_headers_complete(self) -> None:
        self._cancel_header_timer()
        self._header_bytes = 0
        upgrading = self.parser.should_upgrade() and self._should_upgrade()
        super().on_headers_complete()
        if not upgrading:
            self._in_body = True
            self._arm_body_timer()

    def on_body(self, body: bytes) -> None:
        self._arm_body_timer(restart=True)
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._in_body = False
        self._cancel_body_timer()
        super().on_message_complete()

    def handle_websocket_upgrade(self) -> None:
        # From here on the transport belongs to the WebSocket protocol.
        self._upgraded = True
        self._cancel_timers()
        super().handle_websocket_upgrade()

    # Timers

    def _arm_header_timer(self) -> None:
        if self._header_timer is None and self.header_timeout > 0 and not self._upgraded:
            self._header_timer = self.loop.call_later(self.header_timeout, self._headers_late)

    def _arm_body_timer(self, restart: bool = False) -> None:
        if restart:
            self._cancel_body_timer()
        if self._body_timer is None and self.body_timeout > 0 and self._in_body:
            self._body_timer = self.loop.call_later(self.body_timeout, self._body_stalled)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _cancel_body_timer(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None

    def _cancel_timers(self) -> None:
        self._cancel_header_timer()
        self._cancel_body_timer()

    def _headers_late(self) -> None:
        self._header_timer = None
        if not self._upgraded:
            self._close_with(REQUEST_TIMEOUT)

    def _body_stalled(self) -> None:
        self._body_timer = None
        if self._upgraded or not self._in_body:
            return
        if self.flow.read_paused:  # the application is behind, not the client
            self._arm_body_timer()
            return
        started = self.cycle is not None and self.cycle.response_started
        self._close_with(b"" if started else REQUEST_TIMEOUT)

    def _close_with(self, response: bytes) -> None:
        self._cancel_timers()
        if self.transport.is_closing():
            return
        if response:
            self.transport.write(response)
        self.transport.close()

    def _refuse_over_limit(self) -> None:
        now = self.clock()
        if now - LimitedHttpToolsProtocol._last_refusal_logged >= LOG_EVERY_SECONDS:
            LimitedHttpToolsProtocol._last_refusal_logged = now
            log.warning(
                "%d connections open: refusing new ones with 503 "
                "(SENSORGRID_SERVE_MAX_CONNECTIONS=%d)",
                len(self.connections) - 1,
                self.max_connections,
            )
        self._close_with(SERVICE_UNAVAILABLE)
