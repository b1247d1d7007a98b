"""The MQTT ingest service: receive, batch, commit, then acknowledge.

The connection's thread puts deliveries on a bounded queue; the main thread takes
batches (up to ``batch_size`` messages or ``batch_seconds`` after the first),
runs them through the ingest pipeline in one transaction, and acknowledges them
only after the commit. While the database is down the batch is retried with
backoff and nothing is acknowledged: the broker keeps the messages in the session
and stops sending once ``inflight`` are unacknowledged, so memory stays flat.

While a batch commits, a second thread takes the next one off the queue and decodes
its messages as they arrive (``Ahead``): decoding is the pipeline's first step and
reads nothing but the payloads, so it runs while this thread waits on the database.
The next batch closes when it is full, or once ``batch_seconds`` have passed since its
first message and the batch before has been acknowledged; then that thread also runs
the steps that only read (devices checked, values validated, rows rendered for the
write: ``pipeline.prepare``, on its own database connection). The transaction and the
ack stay in this thread, in order, so one process keeps a core busy with its Python
while PostgreSQL writes on the other.
"""

import gc
import logging
import queue
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from tenacity import RetryCallState, Retrying, retry_if_exception_type, wait_exponential_jitter

from sensorgrid import events
from sensorgrid.ingest import pipeline
from sensorgrid.ingest.envelope import Envelope
from sensorgrid.ingest.mqtt import metrics
from sensorgrid.ingest.mqtt.client import Connection, Received
from sensorgrid.ingest.mqtt.config import Options
from sensorgrid.ingest.mqtt.routes import RouteTable
from sensorgrid.ingest.steps.work import Work
from sensorgrid.telemetry.models import Reason

log = logging.getLogger(__name__)

#: errors that say "the database is not there right now": retry, never acknowledge
TRANSIENT = (OperationalError, InterfaceError)
UNROUTED = "unrouted"


class Stopped(Exception):
    """The service was asked to stop while a batch could not be committed."""


@dataclass
class Ahead:
    """A batch taken off the queue with its messages decoded (module docstring)."""

    batch: list[Received] = field(default_factory=list)
    #: per (decoder, source): the deliveries, their envelopes and route patterns, and
    #: the batch being decoded (None for a decoder that stores its batches itself)
    groups: dict[tuple[str, str], tuple[list[tuple[Received, Envelope, str]], Work | None]] = field(
        default_factory=dict
    )
    unrouted: list[Received] = field(default_factory=list)


class Ingester:
    def __init__(
        self,
        options: Options,
        table: RouteTable,
        connection_class: Callable[..., Connection] = Connection,
    ) -> None:
        self.options = options
        self.table = table
        self.queue: queue.Queue[Received] = queue.Queue(maxsize=options.inflight)
        self.stopping = threading.Event()
        self.connection = connection_class(options, table.subscriptions(), self.queue.put)
        self.stored_messages = 0
        #: this thread waits for the next batch: it may close (``_gather``)
        self._wanted = threading.Event()
        self._closing = threading.Event()
        self._ahead: Ahead | None = None  # the batch ``_write`` takes decoded, once

    def run(self, idle_exit: float | None = None) -> None:
        """Work until ``stop()`` (or until idle for ``idle_exit`` seconds once subscribed)."""
        metrics.serve(self.options.metrics_port, settings.SENSORGRID_INGEST_METRICS_ADDRESS)
        # What start-up built (Django's app registry, models, settings, the decoders) lives
        # as long as the process: keep it out of the cyclic collector. Each full collection
        # otherwise walks all of it, about 35 ms, every few batches: measured 10-20% of the
        # throughput of two processes on two cores (docs/performance.md).
        gc.freeze()
        self.connection.start()
        idle_since = time.monotonic()
        decoder = ThreadPoolExecutor(1, thread_name_prefix="ingest-decode")
        upcoming: Future[Ahead] | None = None
        try:
            while not self.stopping.is_set():
                self._wanted.set()
                ahead = upcoming.result() if upcoming is not None else self._gather()
                self._wanted.clear()
                # the next batch is taken and decoded while this one commits
                upcoming = decoder.submit(self._gather)
                batch = ahead.batch
                metrics.QUEUE_DEPTH.set(self.queue.qsize())
                metrics.CONNECTED.set(self.connection.connected.is_set())
                if batch:
                    self._ahead = ahead
                    self._commit_and_ack(batch)
                    idle_since = time.monotonic()
                elif (
                    idle_exit is not None
                    and self.connection.subscribed.is_set()
                    and time.monotonic() - idle_since > idle_exit
                ):
                    log.info("idle for %ss, exiting", idle_exit)
                    break
        except Stopped as exc:
            log.warning("%s", exc)
        finally:
            # A batch taken but not committed stays unacknowledged: the broker resends it.
            self._closing.set()
            decoder.submit(_close_connection)  # the decoding thread's own
            decoder.shutdown(wait=True)
            self._ahead = None
            self.connection.stop()
            connection.close()  # the database's: this thread's work is done
            log.info("stopped after storing %d messages", self.stored_messages)

    def stop(self) -> None:
        """Finish and acknowledge the current batch, then leave (safe from a signal handler)."""
        self.stopping.set()

    def _gather(self) -> Ahead:
        """The next batch, decoded: up to ``batch_size`` messages, closed ``batch_seconds``
        after its first once this thread wants it (module docstring)."""
        ahead = Ahead()
        try:
            first = self.queue.get(timeout=0.25)
        except queue.Empty:
            return ahead
        arrived = [first]
        deadline = time.monotonic() + self.options.batch_seconds
        room = self.options.batch_size - 1
        while room > 0 and not (self.stopping.is_set() or self._closing.is_set()):
            while room > 0:  # whatever is there, decoded at once
                try:
                    arrived.append(self.queue.get_nowait())
                except queue.Empty:
                    break
                room -= 1
            self._decode(ahead, arrived)
            arrived = []
            if room <= 0:
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0 and self._wanted.is_set():
                break
            try:  # past the deadline, look often whether the batch is wanted
                arrived.append(self.queue.get(timeout=min(max(remaining, 0.005), 0.05)))
                room -= 1
            except queue.Empty:
                continue
        self._decode(ahead, arrived)
        if not self._closing.is_set():
            self._prepare(ahead)
        return ahead

    def _decode(self, ahead: Ahead, deliveries: list[Received]) -> None:
        """Route and decode deliveries into ``ahead`` (no database: module docstring)."""
        if not deliveries:
            return
        ahead.batch.extend(deliveries)
        added: dict[tuple[str, str], list[Envelope]] = defaultdict(list)
        for delivery in deliveries:
            routed = self._envelope(delivery)
            if routed is None:
                ahead.unrouted.append(delivery)
                continue
            key, envelope, pattern = routed
            group = ahead.groups.get(key)
            if group is None:
                group = ahead.groups[key] = ([], pipeline.decoding(key[0]))
            group[0].append((delivery, envelope, pattern))
            added[key].append(envelope)
        for key, envelopes in added.items():
            items, work = ahead.groups[key]
            if work is None:
                continue
            try:
                pipeline.decode_more(work, envelopes)
            except Exception:  # a bug: the main thread runs the group's whole pipeline,
                # whose failure splits the batch and keeps the culprit (``_store``)
                log.warning("decoding ahead failed; the batch is decoded again", exc_info=True)
                ahead.groups[key] = (items, None)

    def _prepare(self, ahead: Ahead) -> None:
        """Run the steps that only read for each decoded group (module docstring).

        A group that fails here (its database connection lost, or SQLite's shared test
        database locked by the writing thread) is done again whole by the main thread,
        which retries what is transient: nothing is lost, only this head start.
        """
        for key, (items, work) in ahead.groups.items():
            if work is None:
                continue
            try:
                pipeline.prepare(work)
            except Exception as exc:
                log.info("preparing a batch ahead failed (%s); the batch is done again", exc)
                ahead.groups[key] = (items, None)
                connection.close()  # a new one is opened for the next batch

    def _envelope(self, delivery: Received) -> tuple[tuple[str, str], Envelope, str] | None:
        match = self.table.match(delivery.topic)
        if match is None:
            return None
        route = match.route
        envelope = Envelope(
            source=route.source,
            topic=delivery.topic,
            payload=delivery.payload,
            received_at=delivery.received_at,
            device=match.device,
            authority=route.authority,  # a route bound to an organization (issue 16)
        )
        return (route.decoder, route.source), envelope, route.pattern

    def _commit_and_ack(self, batch: list[Received]) -> None:
        started = time.monotonic()
        retrying = Retrying(
            retry=retry_if_exception_type(TRANSIENT),
            wait=wait_exponential_jitter(multiplier=0.2, max=10),
            stop=lambda state: self.stopping.is_set(),
            before_sleep=self._database_failed,
            reraise=True,
        )
        try:
            # After-ack consumers of what commits here wait for the ack (sensorgrid.events).
            with events.deferred() as after_ack:
                for attempt in retrying:
                    with attempt:
                        self._store(batch)
        except TRANSIENT as exc:
            raise Stopped(
                f"stopping with {len(batch)} messages not stored ({exc}); the broker keeps them"
            ) from None
        acked = self.connection.ack(batch)
        self.stored_messages += len(batch)
        metrics.BATCH_SIZE.observe(len(batch))
        metrics.COMMIT_SECONDS.observe(time.monotonic() - started)
        oldest = min(delivery.received_at for delivery in batch)
        metrics.LAG_SECONDS.set((datetime.now(UTC) - oldest).total_seconds())
        if acked < len(batch):
            log.info(
                "%d messages came over an older connection; the broker resends them",
                len(batch) - acked,
            )
        # In this thread, before the next batch is taken: the next ack waits for them no
        # longer than it waited when they ran before this ack, and this one does not. A
        # consumer that raises is logged and counted; none stops the ingest.
        after_ack.run()

    def _database_failed(self, state: RetryCallState) -> None:
        metrics.DATABASE_ERRORS.inc()
        log.warning(
            "database unavailable (%s); retrying a batch of messages, none acknowledged",
            state.outcome.exception(),  # type: ignore[union-attr]  # set before a sleep
        )
        connection.close()  # a new one is opened for the retry

    def _store(self, batch: Sequence[Received], split: bool = False) -> None:
        """Write a batch in one transaction; a poisonous message is kept, never retried.

        The pipeline refuses bad input per message, so a batch fails only on a bug or on
        a database that refuses a write (a constraint, a trigger, a permission). Such a
        batch is split in halves until the failing messages are alone: one poisonous
        message costs about 2·log2(batch size) small transactions instead of one per
        message of its batch (which took throughput down to a few percent). A message
        the database refused is kept as ``database-error``, not blamed on its decoder.
        """
        try:
            self._write(batch)
        except TRANSIENT:
            raise
        except Exception as exc:
            if len(batch) == 1:
                log.exception("message on %s cannot be stored", batch[0].topic)
                self._keep(batch[0], *self._blame(exc))
                return
            if not split:  # once per batch; the halves' failures are the same one
                log.exception("a batch of %d failed; splitting it to find the cause", len(batch))
            middle = len(batch) // 2
            self._store(batch[:middle], split=True)
            self._store(batch[middle:], split=True)

    @staticmethod
    def _blame(exc: Exception) -> tuple[str, str]:
        """The dead letter's reason and detail for a message that failed its batch alone."""
        if isinstance(exc, DatabaseError):  # not TRANSIENT: those were retried
            return Reason.DATABASE_ERROR, (
                f"the database refused to store it ({type(exc).__name__}: {exc}); "
                "replay it once the database accepts it"
            )
        return Reason.DECODER_ERROR, f"{type(exc).__name__}: {exc}"

    def _write(self, batch: Sequence[Received]) -> None:
        ahead, self._ahead = self._ahead, None
        if ahead is None or ahead.batch is not batch:
            # a retry or a half of a split batch: the steps changed what was decoded
            ahead = Ahead()
            for delivery in batch:
                routed = self._envelope(delivery)
                if routed is None:
                    ahead.unrouted.append(delivery)
                    continue
                key, envelope, pattern = routed
                ahead.groups.setdefault(key, ([], None))[0].append((delivery, envelope, pattern))
        counts: dict[tuple[str, str], int] = defaultdict(int)
        inserted = duplicates = 0
        unrouted = ahead.unrouted
        with transaction.atomic():
            for (decoder, _source), (items, work) in ahead.groups.items():
                if work is not None:
                    result = pipeline.ingest_decoded(work)
                else:
                    result = pipeline.ingest_many([envelope for _, envelope, _ in items], decoder)
                inserted += result.inserted
                duplicates += result.duplicates
                for (_, _, pattern), outcome in zip(items, result.outcomes, strict=True):
                    kept = outcome.refused is not None or outcome.rejected
                    counts[pattern, "dead-lettered" if kept else "stored"] += 1
            for delivery in unrouted:
                self._keep(delivery, Reason.MALFORMED, "no route matches this topic")
                counts[UNROUTED, "unrouted"] += 1
        for (label, kind), count in counts.items():
            metrics.MESSAGES.labels(label, kind).inc(count)
        metrics.SAMPLES.labels("new").inc(inserted)
        metrics.SAMPLES.labels("duplicate").inc(duplicates)

    def _keep(self, delivery: Received, reason: str, detail: str) -> None:
        match = self.table.match(delivery.topic)
        envelope = Envelope(
            source=match.route.source if match else "mqtt",
            topic=delivery.topic,
            payload=delivery.payload,
            received_at=delivery.received_at,
            device=match.device if match else "",
            authority=match.route.authority if match else None,
        )
        pipeline.keep(envelope, match.route.decoder if match else "", reason, detail)


def _close_connection() -> None:
    """Close the calling thread's database connection (``connection`` is per thread: a
    bound ``connection.close`` would be the thread's that looked it up)."""
    connection.close()
