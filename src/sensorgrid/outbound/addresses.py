"""Which addresses the server may connect to on a user's behalf.

An address is *public* when it is globally routable. Everything else (loopback,
RFC 1918, ULA, link-local and the metadata service, CGNAT, multicast, reserved,
documentation, unspecified, and IPv4 addresses of those kinds wrapped in IPv6) is
refused unless an entry of ``SENSORGRID_OUTBOUND_ALLOW`` covers it. Entries:

- ``10.1.2.0/24``, ``192.168.1.5``, ``fd00::/8``: these addresses, any port;
- ``127.0.0.1:8080``, ``[::1]:8080``: this address, this port only;
- ``broker.internal``, ``broker.internal:1883``: whatever this name (as written in the
  channel or pipeline URL) resolves to, any port or this port only.
"""

import ipaddress
import socket
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

REFUSED = "refused by the outbound guard: address not allowed"

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_DEFAULT_PORTS = {"http": 80, "https": 443, "mqtt": 1883, "mqtts": 8883}


class OutboundRefused(OSError):
    """A connection the guard refuses. An OSError, so HTTP and MQTT clients pass it on
    like any failed connection; ``str`` is the generic reason users see."""

    def __init__(self, host: str, address: str, port: int | None) -> None:
        super().__init__(REFUSED)
        self.host, self.address, self.port = host, address, port

    def __str__(self) -> str:
        return REFUSED


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 host an IPv6 address reaches through a translator, if it does."""
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip.sixtofour:
        return ip.sixtofour
    if ip in _NAT64:  # DNS64/NAT64 networks: every IPv4 destination looks like this
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public(ip: IPAddress) -> bool:
    """True for a globally routable unicast address (an IPv6 address that wraps an
    IPv4 one is judged by the IPv4 address it reaches)."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None:
            return is_public(inner)
        if ip.scope_id or ip.teredo or ip.is_site_local:
            return False
    return ip.is_global and not (
        ip.is_multicast
        or ip.is_private
        or ip.is_reserved
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_unspecified
    )


@dataclass(frozen=True)
class _Entry:
    network: ipaddress.IPv4Network | ipaddress.IPv6Network | None
    host: str | None
    port: int | None

    def covers(self, host: str, ip: IPAddress, port: int | None) -> bool:
        if self.port is not None and port != self.port:
            return False
        if self.network is not None:
            return ip.version == self.network.version and ip in self.network
        return host.lower().rstrip(".") == self.host


def _parse(entry: str) -> _Entry:
    text = entry.strip()
    try:
        return _Entry(ipaddress.ip_network(text, strict=False), None, None)
    except ValueError:
        pass
    parts = urlsplit("//" + text)
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"SENSORGRID_OUTBOUND_ALLOW: {entry!r} has an invalid port") from None
    name = parts.hostname or ""
    if not name or parts.path or parts.query or parts.username:
        raise ValueError(
            f"SENSORGRID_OUTBOUND_ALLOW: {entry!r} is not a CIDR, an address or host[:port]"
        )
    try:
        return _Entry(ipaddress.ip_network(name), None, port)
    except ValueError:
        return _Entry(None, name.rstrip("."), port)


@lru_cache(maxsize=8)
def _entries(raw: tuple[str, ...]) -> tuple[_Entry, ...]:
    return tuple(_parse(entry) for entry in raw if entry.strip())


def allowance() -> tuple[_Entry, ...]:
    raw = settings.SENSORGRID_OUTBOUND_ALLOW or ()
    if isinstance(raw, str):
        raw = raw.split(",")
    return _entries(tuple(raw))


def allowed(host: str, ip: IPAddress, port: int | None) -> bool:
    """May the server connect to ``ip`` (resolved from ``host``) on ``port``?"""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped  # one form for the allowance: ::ffff:127.0.0.1 is 127.0.0.1
    if is_public(ip):
        return True
    return any(entry.covers(host, ip, port) for entry in allowance())


def check(host: str, address: str, port: int | None) -> None:
    """Raise ``OutboundRefused`` unless ``address`` (a resolved address) is allowed."""
    if not allowed(host, ipaddress.ip_address(address), port):
        raise OutboundRefused(host, address, port)


def _literal_addresses(host: str) -> list[str]:
    """The addresses a host *literal* stands for (``127.1``, ``0x7f000001``, ``[::1]``),
    without asking DNS; ``localhost`` is loopback by definition (RFC 6761)."""
    name = host.lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return ["127.0.0.1", "::1"]
    try:
        infos = socket.getaddrinfo(
            name, None, proto=socket.IPPROTO_TCP, flags=socket.AI_NUMERICHOST
        )
    except (socket.gaierror, UnicodeError, ValueError):
        return []
    return [str(info[4][0]) for info in infos]


def check_url(url: str) -> None:
    """Save-time check: ``ValueError`` if ``url`` names a literal address the guard refuses.

    Names are not resolved here (they may change before the connection); the
    authoritative check is at connect time.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        raise ValueError("the port is not a number between 0 and 65535") from None
    for address in _literal_addresses(host):
        try:
            check(host, address, port)
        except OutboundRefused:
            raise ValueError(
                f"{host} is a loopback, private, link-local or otherwise non-public "
                "address; the server does not connect there (an operator can allow it "
                "with SENSORGRID_OUTBOUND_ALLOW)."
            ) from None
