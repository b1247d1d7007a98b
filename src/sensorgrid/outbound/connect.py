"""Resolve once, check every address, connect to a checked one.

``connect`` has the signature of ``socket.create_connection``, so HTTP connection
classes and the MQTT client use it in its place. Because the addresses connected to
are exactly the ones checked, a DNS answer that changes between a check and the
connection (DNS rebinding) cannot slip a private address in.
"""

import socket

from sensorgrid.outbound.addresses import check

#: "Leave the socket's default timeout". Callers such as ``http.client`` pass socket's own
#: (private) sentinel for that; any value that is neither a number nor None means the same.
DEFAULT_TIMEOUT = object()


def connect(
    address: tuple[str, int],
    timeout: float | object | None = DEFAULT_TIMEOUT,
    source_address: tuple[str, int] | None = None,
) -> socket.socket:
    """A connected TCP socket to ``address`` (host, port), or ``OutboundRefused``.

    If any address the name resolves to is refused, the connection is refused: a
    name that mixes public and private addresses is not a service to trust.
    """
    host, port = address
    infos = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
    for *_, sockaddr in infos:
        check(host, str(sockaddr[0]), port)
    error: OSError | None = None
    for family, kind, proto, _, sockaddr in infos:
        sock = socket.socket(family, kind, proto)
        try:
            if timeout is None or isinstance(timeout, int | float):
                sock.settimeout(timeout)
            if source_address and source_address[0]:
                sock.bind(source_address)
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            sock.close()
            error = exc
    raise error or OSError(f"{host} resolves to no address")
