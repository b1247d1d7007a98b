"""Where a broker is and how to reach it: host, port, TLS and credentials."""

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from sensorgrid.env import ConfigurationError


@dataclass(frozen=True, slots=True)
class Broker:
    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None

    @property
    def display(self) -> str:
        """The URL without its password, for logs."""
        user = f"{self.username}@" if self.username else ""
        return f"{'mqtts' if self.tls else 'mqtt'}://{user}{self.host}:{self.port}"


def parse(url: str, ca_file: str = "", cert_file: str = "", key_file: str = "") -> Broker:
    """``mqtt://user:pass@host:1883`` or ``mqtts://host:8883`` → Broker."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
        raise ConfigurationError(f"broker URL {url!r}: the scheme must be mqtt:// or mqtts://")
    tls = parts.scheme in ("mqtts", "ssl")
    try:
        port = parts.port or (8883 if tls else 1883)
    except ValueError:
        raise ConfigurationError(f"broker URL {url!r}: the port is not a number") from None
    if not parts.hostname:
        raise ConfigurationError(f"broker URL {url!r}: no host")
    if (cert_file or key_file) and not (cert_file and key_file):
        raise ConfigurationError("a client certificate needs both the cert and the key file")
    return Broker(
        host=parts.hostname,
        port=port,
        tls=tls or bool(ca_file or cert_file),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        ca_file=ca_file or None,
        cert_file=cert_file or None,
        key_file=key_file or None,
    )
