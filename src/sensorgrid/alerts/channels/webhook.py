"""Webhook: POST the payload as JSON, signed with HMAC-SHA256 (docs/alerts.md).

Headers of every attempt:

- ``X-SensorGrid-Event``: ``alert.opened``, ``alert.resolved``, ``samples``, ``test``
- ``Idempotency-Key`` (and ``X-SensorGrid-Delivery``): the same for every attempt of
  one delivery: a receiver that already processed it answers 2xx and drops it.
- ``X-SensorGrid-Timestamp``: Unix seconds of this attempt.
- ``X-SensorGrid-Signature``: ``t=<timestamp>,v1=<hex>``, the HMAC-SHA256 with the
  channel's secret over ``timestamp + "." + idempotency key + "." + body``. The key is
  signed so that a captured request cannot be replayed under a fresh key (which a
  receiver that drops duplicates would process again); the timestamp lets a receiver
  refuse old requests.

The connection passes the outbound guard (``sensorgrid.outbound``). 2xx is success.
408, 425, 429, 5xx, timeouts and network errors are retried; other answers (and
redirects, never followed) are permanent failures, as is a refusal of the guard.
"""

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from django.conf import settings

from sensorgrid.alerts.channels import SendError
from sensorgrid.outbound import OutboundRefused, check_url
from sensorgrid.outbound.http import opener
from sensorgrid.outbound.reasons import reason

RETRYABLE_STATUS = {408, 425, 429}
SIGNATURE_VERSION = "v1"


def body_of(payload) -> bytes:
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


def mac(secret: str, timestamp: str, key: str, body: bytes) -> str:
    """Hex HMAC-SHA256 over ``timestamp.key.body``."""
    message = timestamp.encode() + b"." + key.encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature(secret: str, timestamp: str, key: str, body: bytes) -> str:
    """The ``X-SensorGrid-Signature`` header value."""
    return f"t={timestamp},{SIGNATURE_VERSION}={mac(secret, timestamp, key, body)}"


def verify(
    secret: str, key: str, body: bytes, header: str, tolerance: float = 300, now=None
) -> bool:
    """What a receiver does (docs/alerts.md has the same code): check mac and age."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    timestamp, received = fields.get("t", ""), fields.get(SIGNATURE_VERSION, "")
    if not timestamp.isdigit():
        return False
    if abs((time.time() if now is None else now) - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(mac(secret, timestamp, key, body), received)


def validate_config(config: dict) -> dict:
    url = config.get("url")
    if not isinstance(url, str):
        url = ""  # absent or not text: refused below like any other non-HTTP address
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("url: an http:// or https:// address is required.")
    try:
        check_url(url)
    except ValueError as exc:
        raise ValueError(f"url: {exc}") from None
    unknown = set(config) - {"url"}
    if unknown:
        raise ValueError(f"{', '.join(sorted(unknown))}: unknown; a webhook takes url.")
    return {"url": url}


# Never follows a redirect: it would turn the POST into a GET and leak the body elsewhere.
_opener = opener(follow_redirects=False)


def send(channel, delivery) -> None:
    body = body_of(delivery.payload)
    timestamp = str(int(time.time()))
    key = str(delivery.idempotency_key)
    request = urllib.request.Request(
        channel.config["url"],
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "SensorGrid-Webhook/1",
            "X-SensorGrid-Event": delivery.event,
            "Idempotency-Key": key,
            "X-SensorGrid-Delivery": key,
            "X-SensorGrid-Timestamp": timestamp,
            "X-SensorGrid-Signature": signature(channel.secret, timestamp, key, body),
        },
    )
    timeout = float(settings.SENSORGRID_ALERTS_HTTP_TIMEOUT)
    try:
        with _opener.open(request, timeout=timeout) as response:
            response.read(65536)
    except urllib.error.HTTPError as exc:
        retryable = exc.code >= 500 or exc.code in RETRYABLE_STATUS
        raise SendError(reason(exc), retryable=retryable) from None
    except (urllib.error.URLError, OSError) as exc:  # refused, DNS, timeout, reset
        refused = isinstance(getattr(exc, "reason", exc), OutboundRefused)
        raise SendError(reason(exc), retryable=not refused) from None
