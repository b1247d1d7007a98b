"""One talker at a time: the outbox applier and the reconcile take turns at the broker.

A reconcile that read the broker before the applier created a node's client, and the
inventory after, would be right; the other way round it would find the new client
unknown and delete it (and its password with it). So both hold the ``broker`` lease
while they work, in the database every worker shares. It is a lease, not a lock: a
worker killed while holding it (OOM, SIGKILL) blocks the others only until it expires,
and the holder renews it after every batch. Taking it is a conditional UPDATE (or the
INSERT of the first row), so two workers never both win.
"""

import time
import uuid
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from sensorgrid.brokerauth.models import Lease

NAME = "broker"


class Held:
    """A lease this process holds; ``renew`` it while working, ``release`` it when done."""

    def __init__(self, token: uuid.UUID, seconds: float) -> None:
        self.token = token
        self.seconds = seconds

    def renew(self) -> bool:
        """Extend the lease; False if it expired and another process took it meanwhile."""
        until = timezone.now() + timedelta(seconds=self.seconds)
        return bool(Lease.objects.filter(name=NAME, holder=self.token).update(until=until))

    def release(self) -> None:
        Lease.objects.filter(name=NAME, holder=self.token).update(holder=None, until=None)


def take(seconds: float) -> Held | None:
    """The lease for ``seconds`` if nobody holds it (or their lease expired), else None."""
    now = timezone.now()
    token = uuid.uuid4()
    free = Q(holder=None) | Q(until__lt=now)
    until = now + timedelta(seconds=seconds)
    if Lease.objects.filter(free, name=NAME).update(holder=token, until=until):
        return Held(token, seconds)
    try:
        with transaction.atomic():
            Lease.objects.create(name=NAME, holder=token, until=until)
    except IntegrityError:  # the row exists and is held
        return None
    return Held(token, seconds)


def wait(seconds: float, patience: float, poll: float = 0.5) -> Held | None:
    """``take``, trying for up to ``patience`` seconds."""
    deadline = time.monotonic() + patience
    while True:
        held = take(seconds)
        if held is not None or time.monotonic() >= deadline:
            return held
        time.sleep(poll)
