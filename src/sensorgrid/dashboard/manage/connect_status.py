"""Whether a node's messages arrive: the Connect panel's live line.

"Waiting for the first message…" until the node was heard; then the newer of two
events: its last stored message (``last_seen`` and its latest values) or the newest
dead letter that is the node's; a tie goes to the letter (an uplink whose values were
refused still moves ``last_seen``: the gateways heard the node). A letter is the
node's when it names the node, when the node's own credential sent it (a body too
broken to name any device), or when it came for the node's organization with the
node's device id (an ``unknown-quantity`` of an ingest key's gateway, a topic with a
typo). The page polls this 2 s after each answer (connect.js), every 30 s once the
node was heard.
"""

import zoneinfo
from datetime import datetime

from django.db.models import Q
from django.urls import reverse

from sensorgrid.inventory.models import Node
from sensorgrid.telemetry.models import Credential, DeadLetter, Latest
from sensorgrid.tenancy.time_zones import time_zone_of

#: The detail a letter shows at most; the dead-letter page has all of it.
DETAIL_SHOWN = 300
WAITING = "Waiting for the first message…"


def letters_of(node: Node):
    """The dead letters that are this node's (see the module docstring)."""
    return DeadLetter.objects.filter(
        Q(node=node)
        | Q(credential=Credential.NODE, credential_id=node.pk, organization=node.organization_id)
        | Q(organization=node.organization_id, device_id__iexact=node.device_id)
    )


def clock(at: datetime, zone: str) -> str:
    """12:03:04 in ``zone`` (the organization's, as its other pages show times), with
    the date before it when that is not today there: an old refusal must not read as
    one of a moment ago."""
    local = at.astimezone(zoneinfo.ZoneInfo(zone))
    today = datetime.now(local.tzinfo).date()
    return local.strftime("%H:%M:%S" if local.date() == today else "%Y-%m-%d %H:%M:%S")


def _number(value: float) -> str:
    return f"{value:g}"


def received(node: Node, zone: str) -> dict | None:
    if node.last_seen is None:
        return None
    rows = list(
        Latest.objects.filter(node_id=node.pk)
        .select_related("quantity")
        .order_by("-ts", "quantity__key")
    )
    newest = [row for row in rows if row.ts == rows[0].ts] if rows else []
    newest.sort(key=lambda row: (row.quantity.key != "co2", row.quantity.key))
    values = [
        {"quantity": row.quantity.key, "value": row.value, "unit": row.quantity.unit}
        for row in newest
    ]
    text = ", ".join(
        " ".join(part for part in (row.quantity.key, _number(row.value), row.quantity.unit) if part)
        for row in newest
    )
    at = node.last_seen
    summary = f"Received {clock(at, zone)}" + (f": {text}" if text else "")
    return {"at": at.isoformat(), "values": values, "text": summary}


def newest_letter(node: Node) -> DeadLetter | None:
    return (
        letters_of(node)
        .only("pk", "reason", "detail", "last_received_at", "count")
        .order_by("-last_received_at", "-pk")
        .first()
    )


def refused(letter: DeadLetter, zone: str) -> dict:
    detail = letter.detail[:DETAIL_SHOWN] + ("…" if len(letter.detail) > DETAIL_SHOWN else "")
    text = f"Refused {clock(letter.last_received_at, zone)}: {letter.reason}" + (
        f" ({detail})" if detail else ""
    )
    return {
        "at": letter.last_received_at.isoformat(),
        "reason": letter.reason,
        "detail": detail,
        "count": letter.count,
        "text": text,
        "url": reverse("dashboard:dead-letter", args=[letter.pk]),
    }


def status(node: Node) -> dict:
    """``state`` waiting, received or refused (the newer of the two), with both facts."""
    letter = newest_letter(node)
    zone = time_zone_of(node.organization)
    heard = node.last_seen
    if heard is None and letter is None:
        state = "waiting"
    # A tie is a refusal: a LoRaWAN uplink whose payload was refused still moves
    # last_seen (the gateways heard the node) at the letter's own time.
    elif letter is None or (heard is not None and heard > letter.last_received_at):
        state = "received"
    else:
        state = "refused"
    return {
        "state": state,
        "received": received(node, zone),
        "refused": refused(letter, zone) if letter is not None else None,
        "waiting": WAITING,
        "time_zone": zone,
    }
