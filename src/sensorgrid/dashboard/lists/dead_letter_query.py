"""Which dead letters the list shows: those of the user's organizations (every one for
an operator), as ``/api/v1/dead-letters/`` answers, filtered by reason, device and time."""

import base64
from dataclasses import dataclass
from datetime import UTC, datetime

from django import forms
from django.utils import timezone

from sensorgrid.dashboard.lists import table
from sensorgrid.telemetry.models import DeadLetter, Reason
from sensorgrid.tenancy.scoping import Action

REASONS = [("", "Any reason")] + [(value, f"{value}: {label}") for value, label in Reason.choices]
STATES = [("", "Open and resolved"), ("open", "Open"), ("resolved", "Resolved by a replay")]
#: Payload characters the detail page shows; the API and the CSV give the whole payload.
PAYLOAD_SHOWN = 4096


class DeadLetterFilter(forms.Form):
    reason = forms.ChoiceField(required=False, choices=REASONS)
    device = forms.CharField(
        required=False, max_length=200, label="Device id", widget=table.SearchInput
    )
    state = forms.ChoiceField(required=False, choices=STATES)
    since = forms.DateTimeField(required=False, label="From (UTC)")
    until = forms.DateTimeField(required=False, label="Until (UTC)")
    page = forms.IntegerField(required=False, min_value=1, max_value=1_000_000)

    def full_clean(self) -> None:
        # The pages say "times in UTC": a time without zone is UTC, whatever TIME_ZONE is.
        with timezone.override(UTC):
            super().full_clean()

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since >= until:
            raise forms.ValidationError("“From” must be before “Until”.")
        return cleaned

    def controls(self) -> list[table.Control]:
        found = table.controls(
            self, {"reason": REASONS, "device": None, "state": STATES, "since": None, "until": None}
        )
        # datetime-local: the browser's picker; it sends 2026-06-01T12:00, which the field reads
        return [
            c
            if c.name not in ("since", "until")
            else table.Control(c.name, c.label, "datetime-local", c.value)
            for c in found
        ]


@dataclass(frozen=True, slots=True)
class LetterCriteria:
    reason: str = ""
    device: str = ""
    state: str = ""
    since: datetime | None = None
    until: datetime | None = None
    node: int | None = None  # the node page's tab: letters resolved to this node


def letters_for(user, criteria: LetterCriteria):
    letters = DeadLetter.objects.for_user(user, Action.VIEW).defer("payload")
    if criteria.reason:
        letters = letters.filter(reason=criteria.reason)
    if criteria.node is not None:
        letters = letters.filter(node_id=criteria.node)
    if criteria.device:
        letters = letters.filter(device_id__icontains=criteria.device)
    if criteria.state == "open":
        letters = letters.filter(resolved_at__isnull=True)
    elif criteria.state == "resolved":
        letters = letters.filter(resolved_at__isnull=False)
    if criteria.since:
        letters = letters.filter(received_at__gte=criteria.since)
    if criteria.until:
        letters = letters.filter(received_at__lt=criteria.until)
    return letters.order_by("-received_at", "-pk")


@dataclass(frozen=True, slots=True)
class Shown:
    """A payload as the detail page shows it: text (escaped by the template), cut."""

    text: str
    encoding: str  # utf-8 or base64
    size: int  # bytes in all
    cut: bool


def shown_payload(letter: DeadLetter) -> Shown:
    raw = bytes(letter.payload)
    try:
        text, encoding = raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = base64.b64encode(raw).decode(), "base64"
    return Shown(text[:PAYLOAD_SHOWN], encoding, len(raw), len(text) > PAYLOAD_SHOWN)
