"""Committed facts and the apps that follow them: one event mechanism (issue 17, item 1).

An event is a frozen dataclass that says what a transaction made true: ingest's
``Committed`` (a batch was stored), fidelity's ``StatusChanged``, alerts'
``AlertChanged``. Its producer calls ``announce(event)`` inside that transaction; once
it commits, the event goes to the consumers that settings ``AFTER_COMMIT_CONSUMERS``
names for its class, in the order listed there (like Django's ``MIDDLEWARE``). A
producer never imports its consumers, so dependencies point one way: from the
consumers down to ingest, fidelity and alerts.

Each consumer is marked with its phase:

- ``before-ack``: runs as the transaction commits, before the sender is told (the
  MQTT PUBACK, the HTTP response). Nothing is lost if the process dies before the
  ack: the sender sends again and the consumer runs again (rows as duplicates).
- ``after-ack``: a service that acknowledges deliveries (``sensorgrid ingest``) runs
  it after the ack, so it never adds to the ack's latency (``deferred``). Anywhere
  else (HTTP ingest, the worker, the API) there is no such ack and it runs at commit,
  right after the before-ack ones. A process killed between the ack and the consumer
  loses that one run (the broker does not resend an acknowledged message).

- ``in-transaction``: a consumer that only writes a little to the database (the status
  page's per-minute counters) runs inside the transaction that announces, in a savepoint,
  when that transaction is a block of its own (HTTP ingest: its last statement before
  the COMMIT), so it costs no commit and WAL flush of its own. Inside a longer
  transaction (the MQTT ingester stores several groups in one, whose later groups would
  wait on the row it locked; a test's) it runs as an after-ack consumer instead, the
  first of them.

In each list the in-transaction consumers come first, then the before-ack ones, so the
listed order is the order they run in, in every process. A consumer that raises is
logged and counted (``sensorgrid_event_consumer_errors_total``); the others still run
and the ingest is never undone or stopped.
"""

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import connection, transaction
from django.utils.module_loading import import_string

from sensorgrid.observability import metrics

log = logging.getLogger(__name__)

IN_TRANSACTION = "in-transaction"
BEFORE_ACK = "before-ack"
AFTER_ACK = "after-ack"
PHASES = (IN_TRANSACTION, BEFORE_ACK, AFTER_ACK)

Consume = Callable[[Any], None]


@dataclass(frozen=True, slots=True)
class Consumer:
    name: str  # its dotted path, for logs and the error counter
    run: Consume
    phase: str


@dataclass(slots=True)
class Deferred:
    """After-ack work waiting for the ack of the deliveries being stored."""

    work: list[tuple[Consumer, object]] = field(default_factory=list)

    def run(self) -> None:
        """Run what waited, in order; call once the deliveries are acknowledged."""
        work, self.work = self.work, []
        for consumer, event in work:
            _call(consumer, event)


_deferred: ContextVar[Deferred | None] = ContextVar("sensorgrid_events_deferred", default=None)


def announce(event: object) -> None:
    """Hand ``event`` to its consumers once the current transaction commits (at once
    outside one). Call it inside the transaction that made the event true, as its last
    statement if it has in-transaction consumers (their row locks last until the commit).
    """
    consumers = consumers_of(type(event))
    inside = bool(consumers) and consumers[0].phase == IN_TRANSACTION and _own_transaction()
    if inside:
        for consumer in consumers:
            if consumer.phase == IN_TRANSACTION:
                _call_inside(consumer, event)
    transaction.on_commit(lambda: dispatch(event, inside))


def dispatch(event: object, ran_inside: bool = False) -> None:
    """Run ``event``'s consumers now (after-ack ones later inside ``deferred``); the
    in-transaction ones as after-ack ones unless they ``ran_inside`` the transaction."""
    waiting = _deferred.get()
    for consumer in consumers_of(type(event)):
        if consumer.phase == IN_TRANSACTION and ran_inside:
            continue
        if waiting is not None and consumer.phase != BEFORE_ACK:
            waiting.work.append((consumer, event))
        else:
            _call(consumer, event)


def _own_transaction() -> bool:
    """True in the outermost atomic block of a transaction (no savepoint open)."""
    return connection.in_atomic_block and not connection.savepoint_ids


def _call_inside(consumer: Consumer, event: object) -> None:
    """``_call`` in a savepoint: a consumer that fails leaves the transaction usable."""
    try:
        with transaction.atomic():
            consumer.run(event)
    except Exception:  # isolation, as in _call: the ingest still commits
        metrics.EVENT_CONSUMER_ERRORS.labels(consumer.name).inc()
        log.exception("%s failed on %s", consumer.name, type(event).__name__)


@contextmanager
def deferred() -> Iterator[Deferred]:
    """Keep after-ack consumers of what commits inside this block for ``Deferred.run``.

    For a service that acknowledges after commit: store inside the block, acknowledge,
    then call ``run()``. Work of a transaction that rolls back never gets here.
    """
    waiting = Deferred()
    token = _deferred.set(waiting)
    try:
        yield waiting
    finally:
        _deferred.reset(token)


def _call(consumer: Consumer, event: object) -> None:
    try:
        consumer.run(event)
    except Exception:  # isolation: one broken consumer must not stop the others or ingest
        metrics.EVENT_CONSUMER_ERRORS.labels(consumer.name).inc()
        log.exception("%s failed on %s", consumer.name, type(event).__name__)


def _path(kind: type) -> str:
    return f"{kind.__module__}.{kind.__qualname__}"


def consumers_of(kind: type) -> tuple[Consumer, ...]:
    """The consumers settings name for events of class ``kind``, in order (checked)."""
    return _consumers(_path(kind))


@cache
def _consumers(path: str) -> tuple[Consumer, ...]:
    entries = settings.AFTER_COMMIT_CONSUMERS.get(path, ())
    consumers = []
    for entry in entries:
        target, phase = entry
        if phase not in PHASES:
            raise ImproperlyConfigured(
                f"AFTER_COMMIT_CONSUMERS[{path!r}]: {target!r} has phase {phase!r}, "
                f"not one of {', '.join(PHASES)}"
            )
        # A dotted path in settings; tests may put the callable itself.
        run = import_string(target) if isinstance(target, str) else target
        name = target if isinstance(target, str) else f"{run.__module__}.{run.__qualname__}"
        consumers.append(Consumer(name, run, phase))
    phases = [c.phase for c in consumers]
    if phases != sorted(phases, key=PHASES.index):
        raise ImproperlyConfigured(
            f"AFTER_COMMIT_CONSUMERS[{path!r}]: list the in-transaction consumers first, "
            "then the before-ack consumers before the after-ack ones (the listed order is "
            "the order they run in)"
        )
    return tuple(consumers)


def check(**kwargs: object) -> list[checks.CheckMessage]:
    """A system check: every configured event class and consumer imports, phases are
    known and in order (so a typo fails ``sensorgrid check`` and every command, not the
    first batch)."""
    errors: list[checks.CheckMessage] = []
    for path in settings.AFTER_COMMIT_CONSUMERS:
        try:
            consumers_of(import_string(path))
        except (ImportError, ImproperlyConfigured) as exc:
            errors.append(
                checks.Error(str(exc), obj="AFTER_COMMIT_CONSUMERS", id="sensorgrid.E001")
            )
    return errors


def _forget(*, setting: str, **kwargs: object) -> None:
    if setting == "AFTER_COMMIT_CONSUMERS":
        _consumers.cache_clear()


setting_changed.connect(_forget, dispatch_uid="sensorgrid-events")
