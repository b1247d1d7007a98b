"""MQTT publish to an external broker (QoS 1): ``{"url": "mqtt[s]://[user@]host[:port]",
"topic": "…", "password": "…"}``.

The password is write-only: it may come inside the URL (``user:pass@``, as older
clients send it) or as ``password``; it is stored apart from the URL and never
returned (``public_config`` shows ``password_set``). An update without a password
keeps the stored one; ``"password": ""`` removes it.

``mqtts://`` checks the broker's certificate and host name, against the system's CAs or
the channel's own ``ca`` (PEM text: a private CA). A broker that wants a client
certificate gets ``client_cert`` with ``client_key`` (PEM; the key is write-only like the
password: ``client_key_set``). Text, not file names: a channel is a tenant's, and a path
would let it read the server's files.

The broker's address passes the outbound guard at connect time (``make_client``'s
``open_socket`` is the guard's ``connect``), and
``$`` topics (the broker's own: ``$SYS``, ``$CONTROL``) are refused. Where an operator
allows an internal broker, which topics a channel may publish to is that broker's ACL
for the credentials the channel carries (docs/alerts.md).

The JSON payload carries ``idempotency_key`` (an MQTT 5 user property is not used:
brokers of version 3.1.1 are common), so a subscriber can drop a repeat. One
short-lived connection per delivery: simple and robust, not fast; forwarders batch
samples so this stays cheap.
"""

import json
import os
import ssl
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import SplitResult, quote, unquote, urlsplit, urlunsplit

from django.conf import settings

from sensorgrid.alerts.channels import SendError
from sensorgrid.mqtt import Broker, make_client
from sensorgrid.outbound import OutboundRefused, check_url
from sensorgrid.outbound.connect import connect
from sensorgrid.outbound.mqtt import check_topic
from sensorgrid.outbound.reasons import reason

#: Keys a client may send back unchanged from a read (``…_set`` are ignored).
ACCEPTED = {
    "url",
    "topic",
    "password",
    "password_set",
    "ca",
    "client_cert",
    "client_key",
    "client_key_set",
}
#: the PEM texts of TLS, the key among them write-only
PEM_KEYS = ("ca", "client_cert", "client_key")
MAX_PEM_CHARACTERS = 64 * 1024


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    hostport = parts.netloc.rpartition("@")[2]
    user = f"{quote(unquote(parts.username), safe='')}@" if parts.username else ""
    return urlunsplit((parts.scheme, user + hostport, parts.path, parts.query, ""))


def _is_broker(parts: SplitResult) -> bool:
    try:
        return parts.scheme in ("mqtt", "mqtts") and bool(parts.hostname) and (parts.port or 0) >= 0
    except ValueError:  # a port that is not a number or out of range
        return False


def validate_config(config: dict, previous: dict | None = None) -> dict:
    url, topic = config.get("url"), config.get("topic")
    if not isinstance(url, str):
        url = ""  # absent or not text: refused below like any other non-MQTT address
    parts = urlsplit(url)
    if not _is_broker(parts):
        raise ValueError("url: an mqtt:// or mqtts:// address is required.")
    try:
        check_url(url)
    except ValueError as exc:
        raise ValueError(f"url: {exc}") from None
    check_topic(topic)
    unknown = set(config) - ACCEPTED
    if unknown:
        raise ValueError(f"{', '.join(sorted(unknown))}: unknown; MQTT takes url and topic.")
    password = config.get("password")
    if password is None and parts.password is not None:
        password = unquote(parts.password)
    if password is None and previous:
        password = stored_password(previous)  # an update without a password keeps it
    if password is not None and not isinstance(password, str):
        raise ValueError("password: must be text.")
    normalised = {"url": _without_password(url), "topic": topic}
    if password:
        normalised["password"] = password
    normalised.update(_tls_config(config, previous, parts.scheme == "mqtts"))
    return normalised


def _tls_config(config: dict, previous: dict | None, tls: bool) -> dict:
    """The channel's CA and client certificate (PEM), checked by loading them."""
    chosen = {}
    for key in PEM_KEYS:
        value = config.get(key)
        if value is None and key == "client_key" and previous:
            value = previous.get(key)  # write-only: an update without it keeps it
        if value in (None, ""):
            continue
        if (
            not isinstance(value, str)
            or len(value) > MAX_PEM_CHARACTERS
            or "-----BEGIN " not in value
        ):
            raise ValueError(f"{key}: PEM text (-----BEGIN …) of at most 64 KB is required.")
        chosen[key] = value
    if not chosen:
        return {}
    if not tls:
        raise ValueError(f"{', '.join(chosen)}: only for TLS brokers (mqtts://).")
    if ("client_cert" in chosen) != ("client_key" in chosen):
        raise ValueError(
            "client_cert, client_key: a client certificate needs its key, and the key "
            "its certificate."
        )
    tls_context(chosen)  # ValueError with the reason if TLS cannot use them
    return chosen


def tls_context(config: dict) -> ssl.SSLContext:
    """TLS as the channel asks: the broker's certificate and name checked, its own CA or
    the system's; its client certificate if it has one. ``ValueError`` if unusable."""
    try:
        context = ssl.create_default_context(cadata=config.get("ca") or None)
    except (ssl.SSLError, ValueError) as exc:
        raise ValueError(f"ca: no CA certificate could be read ({exc}).") from None
    if config.get("client_cert"):
        # ssl loads a certificate chain from files only: a private directory (0700),
        # deleted as soon as the context holds them.
        with tempfile.TemporaryDirectory(prefix="sensorgrid-mqtt-") as directory:
            cert, key = Path(directory, "cert.pem"), Path(directory, "key.pem")
            cert.write_text(config["client_cert"])
            with os.fdopen(os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
                f.write(config.get("client_key") or "")
            try:
                context.load_cert_chain(cert, key)
            except (ssl.SSLError, ValueError) as exc:
                raise ValueError(
                    f"client_cert, client_key: not a certificate and its key ({exc})."
                ) from None
    return context


def stored_password(config: dict) -> str | None:
    """The broker password of a stored configuration (older rows keep it in the URL)."""
    if config.get("password"):
        return config["password"]
    parts = urlsplit(config.get("url") or "")
    return unquote(parts.password) if parts.password else None


def public_config(config: dict) -> dict:
    """What the API shows: the URL without its password, and whether one is set."""
    shown = {k: v for k, v in config.items() if k not in ("password", "client_key")}
    if isinstance(shown.get("url"), str):
        shown["url"] = _without_password(shown["url"])
    shown["password_set"] = bool(stored_password(config))
    if config.get("client_cert") or config.get("client_key"):
        shown["client_key_set"] = bool(config.get("client_key"))
    return shown


def send(channel, delivery) -> None:
    parts = urlsplit(channel.config["url"])
    timeout = float(settings.SENSORGRID_ALERTS_MQTT_TIMEOUT)
    body = json.dumps(
        {**delivery.payload, "idempotency_key": str(delivery.idempotency_key)},
        separators=(",", ":"),
    ).encode()
    tls = parts.scheme == "mqtts"
    broker = Broker(
        host=parts.hostname,
        port=parts.port or (8883 if tls else 1883),
        tls=tls,
        username=unquote(parts.username) if parts.username else None,
        password=stored_password(channel.config),
    )
    refusal, connected = [], threading.Event()

    def on_connect(client, userdata, flags, code, properties=None):
        if code.is_failure:
            refusal.append(str(code))  # a fixed reason code of MQTT, e.g. "Not authorized"
        connected.set()

    try:
        context = tls_context(channel.config) if tls else None
    except ValueError as exc:
        raise SendError(str(exc), retryable=False) from None
    client = make_client(
        broker,
        name="alerts",
        open_socket=connect,
        tls_context=context,
        callbacks={"on_connect": on_connect},
    )
    try:
        client.start(keepalive=60, wait=True)
        info = client.publish(channel.config["topic"], body, qos=1)
        deadline = time.monotonic() + timeout
        while not refusal and not info.is_published() and time.monotonic() < deadline:
            connected.wait(0.05)  # a refusing broker ends the wait at once
            info.wait_for_publish(0.05)
        if refusal:
            raise SendError(f"the broker refused the connection: {refusal[0]}")
        if not info.is_published():
            raise SendError(f"the broker did not acknowledge within {timeout:g} s")
    except SendError:
        raise
    except Exception as exc:  # guard, refused, DNS, TLS
        raise SendError(reason(exc), retryable=not isinstance(exc, OutboundRefused)) from None
    finally:
        client.loop_stop()
        client.disconnect()
