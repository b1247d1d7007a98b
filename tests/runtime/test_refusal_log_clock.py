"""The first connection refused over the cap is logged even right after machine boot:
``time.monotonic()`` counts from boot, and a "last logged at 0.0" stamp hid it."""

import logging

from sensorgrid.runtime import limits


class Transport:
    """What the protocol writes when it refuses a connection."""

    def __init__(self) -> None:
        self.written = b""
        self.closed = False

    def is_closing(self) -> bool:
        return self.closed

    def write(self, data: bytes) -> None:
        self.written += data

    def close(self) -> None:
        self.closed = True


class JustBooted(limits.LimitedHttpToolsProtocol):
    clock = staticmethod(lambda: 5.0)  # 5 s after boot, in a fresh process


def test_the_first_refusal_after_boot_is_logged(caplog, monkeypatch):
    base = limits.LimitedHttpToolsProtocol
    monkeypatch.setattr(base, "_last_refusal_logged", base._last_refusal_logged)  # restored
    protocol = object.__new__(JustBooted)  # no event loop or server: only the refusal
    protocol.connections = {object(), object()}
    protocol.max_connections = 1
    protocol.transport = Transport()
    protocol._header_timer = protocol._body_timer = None
    with caplog.at_level(logging.WARNING, logger=limits.__name__):
        protocol._refuse_over_limit()
    assert protocol.transport.written.startswith(b"HTTP/1.1 503")
    assert "refusing new ones with 503" in caplog.text
