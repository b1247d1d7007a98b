"""What a user is told when an outbound connection fails: a fixed phrase, never the
remote service's answer (its body, its reason phrase) nor internal details (which
address a name resolved to, an exception's text)."""

import socket
import ssl
import urllib.error

from sensorgrid.outbound.addresses import REFUSED, OutboundRefused


def reason(exc: BaseException) -> str:
    """A generic reason for a failed connection or request."""
    if isinstance(exc, urllib.error.HTTPError):
        return f"the remote service answered HTTP {exc.code}"
    if isinstance(exc, urllib.error.URLError) and isinstance(exc.reason, BaseException):
        return reason(exc.reason)
    if isinstance(exc, urllib.error.URLError):
        return "connection failed"
    if isinstance(exc, OutboundRefused):
        return REFUSED
    if isinstance(exc, socket.gaierror):
        return "connection failed: the host name does not resolve"
    if isinstance(exc, TimeoutError | socket.timeout):
        return "connection failed: timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection failed: refused"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return "connection failed: the TLS certificate is not valid for this host"
    if isinstance(exc, ssl.SSLError):
        return "connection failed: TLS error"
    return "connection failed"
