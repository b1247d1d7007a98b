"""Webhook: POST the payload as JSON, signed with HMAC-SHA256 (docs/alerts.md).

Headers of every attempt:

- ``X-SensorGrid-Event``: ``alert.opened``, ``alert.resolved``, ``samples``, ``test``
- ``Idempotency-Key`` (and ``X-SensorGrid-Delivery``): the same for every attempt of
  one delivery: a receiver that already processed it answers 2xx and drops it.
- ``X-SensorGrid-Timestamp``: Unix seconds of this attempt.
- ``X-SensorGrid-Signature``: ``sha256=`` + hex HMAC-SHA256 with the channel's secret
  over ``timestamp + "." + body``; receivers should also refuse old timestamps.

2xx is success. 408, 425, 429, 5xx, timeouts and network errors are retried; other
answers (and redirects, never followed) are permanent failures.
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

RETRYABLE_STATUS = {408, 425, 429}


def body_of(payload) -> bytes:
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


def signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, header: str, tolerance: float = 300) -> bool:
    """What a receiver does (docs/alerts.md has the same code): check mac and age."""
    if abs(time.time() - float(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), header)


def validate_config(config: dict) -> dict:
    url = config.get("url")
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("url: an http:// or https:// address is required.")
    unknown = set(config) - {"url"}
    if unknown:
        raise ValueError(f"{', '.join(sorted(unknown))}: unknown; a webhook takes url.")
    return {"url": url}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # a redirect would turn the POST into a GET and leak the body elsewhere


_opener = urllib.request.build_opener(_NoRedirect)


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
            "X-SensorGrid-Signature": signature(channel.secret, timestamp, body),
        },
    )
    timeout = float(getattr(settings, "SENSORGRID_ALERTS_HTTP_TIMEOUT", 10))
    try:
        with _opener.open(request, timeout=timeout) as response:
            response.read(65536)
    except urllib.error.HTTPError as exc:
        retryable = exc.code >= 500 or exc.code in RETRYABLE_STATUS
        raise SendError(f"HTTP {exc.code} {exc.reason}", retryable=retryable) from None
    except (urllib.error.URLError, OSError) as exc:  # refused, DNS, timeout, reset
        reason = getattr(exc, "reason", exc)
        raise SendError(f"{type(exc).__name__}: {reason}") from None
