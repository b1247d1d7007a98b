"""E-mail through Django's mail backend (``EMAIL_*`` settings).

The ``Message-ID`` is derived from the delivery's idempotency key, so a message sent
twice (a worker killed after the SMTP server accepted it) carries the same id and
mail clients show it once. The SMTP server is the operator's (settings), not a user's
choice, so it is not behind the outbound guard; its answers are not shown to users.
"""

import json
import logging
import smtplib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email

from sensorgrid.alerts.channels import SendError
from sensorgrid.outbound.reasons import reason

log = logging.getLogger(__name__)


def validate_config(config: dict) -> dict:
    to = config.get("to")
    if isinstance(to, str):
        to = [to]
    if not isinstance(to, list) or not to:
        raise ValueError("to: a list of e-mail addresses is required.")
    for address in to:
        try:
            validate_email(address)
        except (ValidationError, TypeError):
            raise ValueError(f"to: {address!r} is not an e-mail address.") from None
    unknown = set(config) - {"to"}
    if unknown:
        raise ValueError(f"{', '.join(sorted(unknown))}: unknown; e-mail takes to.")
    return {"to": to}


def subject_and_text(delivery) -> tuple[str, str]:
    payload = delivery.payload
    alert = payload.get("alert")
    if alert:
        state = "Resolved" if delivery.event == "alert.resolved" else "Alert"
        subject = f"[SensorGrid] {state} ({alert['severity']}): {alert['message']}"
        lines = [
            alert["message"],
            "",
            f"Rule: {alert['rule']['name']}",
            f"Node: {alert['node']['device_id']}",
            f"Started: {alert['started_at']}",
            f"Opened: {alert['opened_at']}",
            f"Resolved: {alert['resolved_at'] or '-'}",
            f"Last value: {alert['last_value']}",
        ]
        return subject[:200], "\n".join(lines)
    return f"[SensorGrid] {delivery.event}", json.dumps(payload, indent=2)


def send(channel, delivery) -> None:
    subject, text = subject_and_text(delivery)
    key = str(delivery.idempotency_key)
    message = EmailMessage(
        subject=subject,
        body=text,
        from_email=settings.SENSORGRID_ALERTS_EMAIL_FROM or None,  # None: DEFAULT_FROM_EMAIL
        to=channel.config["to"],
        headers={"Message-ID": f"<{key}@sensorgrid>", "X-SensorGrid-Delivery": key},
    )
    try:
        message.send(fail_silently=False)
    except smtplib.SMTPRecipientsRefused:
        raise SendError("the mail server refused the recipient address") from None
    except smtplib.SMTPException:
        raise SendError("the mail server refused the message") from None
    except Exception as exc:  # refused connections, timeouts: all retried
        # The SMTP server is the operator's: its host and answers stay in the logs.
        log.warning("alert e-mail for delivery %s failed: %r", key, exc)
        raise SendError(f"the mail server: {reason(exc)}") from None
