"""The broker outbox: changes of nodes and routes, queued in their own transaction.

``enqueue`` writes a ``BrokerChange`` in the caller's transaction (so the broker learns
of a change if and only if it committed) and, once committed, asks the worker to apply
it at once; the worker's periodic task catches whatever that misses (apply.py).

Order. Changes of one broker username are applied strictly in id order: a row is
claimed only while no earlier row of the same username (or of every node: ``routes``)
is pending or being applied, so a rotation can never overtake the creation it follows,
nor a creation the deletion before it. Rows of different usernames go on independently.

Claims and retries follow the alert outbox (alerts/deliveries.py): the claim is a
conditional UPDATE, on PostgreSQL after ``FOR UPDATE SKIP LOCKED``; it is a lease, so
a worker killed mid-apply leaves the row to another one after ``claimed_until``; a
failed attempt waits ``base × 2^(attempts − 1)`` seconds, capped. A broker outage is
retried for ever (nothing is lost); a change the broker refuses is kept as ``failed``
with the reason and no longer holds back the rows after it.

Passwords. dynsec's ``setClientPassword`` takes the plaintext, and SensorGrid keeps only
a digest of a node credential, so a new credential waits here encrypted (Fernet, with a
key derived from ``SENSORGRID_BROKER_OUTBOX_KEY`` or else ``SECRET_KEY``) and is deleted
with its row as soon as the broker has it, or blanked when the change fails.
"""

import base64
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from sensorgrid.brokerauth.models import BrokerChange, ChangeStatus

log = logging.getLogger(__name__)

UNFINISHED = (ChangeStatus.PENDING, ChangeStatus.APPLYING)


def enabled() -> bool:
    """True if changes are queued for the broker (``SENSORGRID_BROKER_AUTH=dynsec``)."""
    return settings.SENSORGRID_BROKER_AUTH == "dynsec"


class SecretUnreadable(Exception):
    """A queued password cannot be decrypted: the outbox key changed since it was queued."""


def _fernet() -> Fernet:
    secret = settings.SENSORGRID_BROKER_OUTBOX_KEY or settings.SECRET_KEY
    key = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=None,
        info=b"sensorgrid.brokerauth.outbox",
    ).derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def seal(password: str) -> str:
    return _fernet().encrypt(password.encode()).decode("ascii")


def unseal(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode("ascii")).decode()
    except InvalidToken:
        raise SecretUnreadable(
            "the queued password cannot be decrypted (SENSORGRID_BROKER_OUTBOX_KEY or "
            "SECRET_KEY changed since it was queued); issue the node a new credential"
        ) from None


def enqueue(
    action: str,
    username: str = "",
    password: str | None = None,
    node_id: int | None = None,
    now: datetime | None = None,
) -> BrokerChange | None:
    """Queue a broker change in the current transaction; the worker is asked after commit.

    Does nothing (returns None) unless broker authentication is ``dynsec``.
    """
    if not enabled():
        return None
    change = BrokerChange.objects.create(
        username=username,
        node_id=node_id,
        action=action,
        secret=seal(password) if password else "",
        next_attempt_at=now or timezone.now(),
    )
    _kick_after_commit()
    return change


def _kick_after_commit() -> None:
    """One kick per transaction, however many rows it queued (an organization's deletion
    queues one per node)."""
    conn = transaction.get_connection()
    pending = getattr(conn, "run_on_commit", None) or []
    if any(entry[1] is kick for entry in pending):
        return
    transaction.on_commit(kick)


def kick() -> None:
    """Ask a worker to apply the queued changes now (the periodic task catches what this misses)."""
    if not settings.SENSORGRID_BROKER_APPLY_AT_ONCE:
        return
    from sensorgrid.brokerauth.tasks import apply_now

    try:
        apply_now()
    except Exception:  # the queue is down: the rows wait for the periodic task
        log.warning("could not enqueue the broker changes; the periodic task will apply them")


def backoff(attempts: int) -> timedelta:
    """Delay after the ``attempts``-th failed attempt: base × 2^(attempts − 1), capped."""
    base = float(settings.SENSORGRID_BROKER_RETRY_BASE)
    cap = float(settings.SENSORGRID_BROKER_RETRY_MAX)
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), cap))


@dataclass(frozen=True, slots=True)
class Claimed:
    change: BrokerChange
    claim: uuid.UUID

    def mine(self):
        """The row, as long as this claim still holds it."""
        return BrokerChange.objects.filter(
            pk=self.change.pk, claim=self.claim, status=ChangeStatus.APPLYING
        )


def _due(now: datetime) -> Q:
    return Q(status=ChangeStatus.PENDING, next_attempt_at__lte=now) | Q(
        status=ChangeStatus.APPLYING, claimed_until__lt=now
    )


def _unblocked():
    """No earlier unfinished row of the same username, of every node, or (for a row of
    every node) of anybody."""
    earlier = BrokerChange.objects.filter(pk__lt=OuterRef("pk"), status__in=UNFINISHED)
    same = earlier.filter(Q(username=OuterRef("username")) | Q(username=""))
    return ~Exists(same) & ~(Q(username="") & Exists(earlier))


def claim(now: datetime, limit: int = 100) -> list[Claimed]:
    """Claim up to ``limit`` due and unblocked changes, oldest first (module docstring)."""
    lease = timedelta(seconds=float(settings.SENSORGRID_BROKER_LEASE))
    claimed: list[tuple[int, uuid.UUID]] = []
    with transaction.atomic():
        candidates = BrokerChange.objects.filter(_due(now)).filter(_unblocked()).order_by("pk")
        if connection.features.has_select_for_update_skip_locked:
            candidates = candidates.select_for_update(skip_locked=True)
        for status, pk, attempts in candidates.values_list("status", "pk", "attempts")[:limit]:
            token = uuid.uuid4()
            won = BrokerChange.objects.filter(pk=pk, status=status, attempts=attempts).update(
                status=ChangeStatus.APPLYING,
                attempts=F("attempts") + 1,
                claim=token,
                claimed_until=now + lease,
            )
            if won:
                claimed.append((pk, token))
    rows = BrokerChange.objects.in_bulk([pk for pk, _ in claimed])
    return [Claimed(rows[pk], token) for pk, token in claimed if pk in rows]


def applied(item: Claimed) -> None:
    """The broker has the change: the row and its password go."""
    item.mine().delete()


def retry(item: Claimed, error: str, now: datetime | None = None) -> datetime:
    """The broker could not be reached: try again after the backoff; returns when."""
    at = (now or timezone.now()) + backoff(item.change.attempts)
    item.mine().update(
        status=ChangeStatus.PENDING,
        next_attempt_at=at,
        last_error=error[:2000],
        claim=None,
        claimed_until=None,
    )
    return at


def release(item: Claimed, at: datetime) -> None:
    """Give back a claimed change not tried (an earlier one found the broker down); its
    attempt does not count."""
    item.mine().update(
        status=ChangeStatus.PENDING,
        attempts=F("attempts") - 1,
        next_attempt_at=at,
        claim=None,
        claimed_until=None,
    )


def failed(item: Claimed, error: str) -> None:
    """The broker refused the change: keep the reason, drop the password, stop holding
    back later changes of the username."""
    item.mine().update(status=ChangeStatus.FAILED, secret="", last_error=error[:2000], claim=None)


def pending() -> QuerySet[BrokerChange]:
    """The changes the broker does not have yet."""
    return BrokerChange.objects.filter(status__in=UNFINISHED)
