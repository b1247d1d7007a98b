"""What the MQTT endpoint announces: committed new and updated entities, handed from
whichever process stored them to the processes that serve MQTT subscribers.

Producers (after commit, never blocking the ingest path):

- ``after_ingest``: the ``Committed`` consumer (settings ``AFTER_COMMIT_CONSUMERS``):
  every sample of the batch, whatever its source (MQTT, HTTP, LoRaWAN, an Observation
  POSTed to a numeric Datastream, CreateObservations), as (node, quantity, time);
- ``observation_saved`` / ``datastream_saved``: ``post_save`` of the observations
  store's rows and of Datastreams created through the REST API (``on_commit``);
- ``entity_saved``: ``post_save`` of the other sets' rows when one is created (a Thing
  is a node; Locations, HistoricalLocations, Sensors, ObservedProperties,
  FeaturesOfInterest), inline ones of a deep insert and those the service makes itself
  (a HistoricalLocation when a Thing's Locations change, a FeatureOfInterest for an
  Observation) alike, as (entity set, id, None);
- ``updating``: PATCH, PUT and JSON-PATCH (``write/update.py``) of any entity, as
  (entity set, id, the properties whose value changed).

The events carry ids only, never values or names: what a subscriber gets is read from
the database by the server (``deliver``), through the walls, as GET would. A thread
gathers what arrived meanwhile and sends it as one ``sta.mqtt.created`` message:

- with the Redis channel layer to the group ``GROUP``, which the MQTT server of every
  web process listens to (``server.py``);
- with the in-memory layer straight to the MQTT server of this process, if one runs
  (``sensorgrid demo`` runs ingest inside the web process); otherwise to nobody.

Bounded: at most ``MAX_ITEMS`` items wait; beyond, new ones are dropped and counted in
the log (a subscriber then misses them, as a QoS 0 message may be missed).
"""

import asyncio
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import transaction

log = logging.getLogger(__name__)

GROUP = "sensorthings.mqtt"
MESSAGE_TYPE = "sta.mqtt.created"
#: items waiting at most; beyond, new ones are dropped
MAX_ITEMS = 100_000
#: items per channel-layer message at most
CHUNK = 5_000
SEND_TIMEOUT = 10.0
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_US = timedelta(microseconds=1)


def micros(ts: datetime) -> int:
    return (ts - EPOCH) // ONE_US


def from_micros(us: int) -> datetime:
    return EPOCH + us * ONE_US


class Feed:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._samples: list[tuple[int, int, int]] = []
        self._observations: list[tuple[int, int]] = []
        self._datastreams: list[int] = []
        #: (entity set, @iot.id, changed properties; None: created)
        self._changes: list[tuple[str, int, list[str] | None]] = []
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.dropped = 0
        #: the MQTT server of this process (in-memory layer only), set by server.py
        self.local: Any = None

    def _room(self) -> int:
        waiting = len(self._samples) + len(self._observations) + len(self._datastreams)
        return MAX_ITEMS - waiting - len(self._changes)

    def offer(
        self,
        samples: list[tuple[int, int, int]] = (),  # type: ignore[assignment]
        observations: list[tuple[int, int]] = (),  # type: ignore[assignment]
        datastreams: list[int] = (),  # type: ignore[assignment]
        changes: list[tuple[str, int, list[str] | None]] = (),  # type: ignore[assignment]
    ) -> None:
        """Queue new items (any thread, never blocks)."""
        if not self.listening():
            return
        with self._lock:
            buckets: tuple[tuple[list[Any], Any], ...] = (
                (self._samples, samples),
                (self._observations, observations),
                (self._datastreams, datastreams),
                (self._changes, changes),
            )
            for bucket, items in buckets:
                room = self._room()
                if len(items) > room:
                    self.dropped += len(items) - room
                    log.warning(
                        "sensorthings mqtt: %d new items dropped (queue full)", self.dropped
                    )
                bucket.extend(list(items)[: max(room, 0)])
        self._kick()

    def listening(self) -> bool:
        """Whether anybody can hear: a shared (Redis) layer, or a server in this process
        with a subscriber."""
        layer = get_channel_layer()
        if layer is None:
            return False
        if isinstance(layer, InMemoryChannelLayer):
            local = self.local
            return local is not None and local.wants()
        return True

    def _kick(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            with self._lock:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(
                        target=self._run, name="sensorthings-mqtt-feed", daemon=True
                    )
                    self._thread.start()
        self._wake.set()

    def _take(self) -> dict[str, Any] | None:
        with self._lock:
            if not (self._samples or self._observations or self._datastreams or self._changes):
                return None
            message = {
                "type": MESSAGE_TYPE,
                "samples": self._samples[:CHUNK],
                "observations": self._observations[:CHUNK],
                "datastreams": self._datastreams[:CHUNK],
                "changes": self._changes[:CHUNK],
            }
            del self._samples[:CHUNK], self._observations[:CHUNK], self._datastreams[:CHUNK]
            del self._changes[:CHUNK]
            return message

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            while (message := self._take()) is not None:
                try:
                    self._send(message)
                except Exception:  # the next batch must still go out
                    log.exception("sensorthings mqtt: announcing new entities failed")

    def _send(self, message: dict[str, Any]) -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        if isinstance(layer, InMemoryChannelLayer):
            local = self.local
            if local is not None:
                local.offer(message)
            return
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
        self._loop.run_until_complete(
            asyncio.wait_for(layer.group_send(GROUP, message), SEND_TIMEOUT)
        )


feed = Feed()


def after_ingest(report) -> None:
    """``Committed`` consumer: the batch's samples, as (node, quantity, µs since 1970)."""
    if report.rows and feed.listening():
        feed.offer(samples=[(r.node_id, r.quantity_id, micros(r.ts)) for r in report.rows])


def observation_saved(sender, instance, created, raw=False, **kwargs) -> None:
    """``post_save`` of the observations store: announced once the transaction commits."""
    if created and not raw and feed.listening():
        item = (instance.datastream_id, instance.pk)
        transaction.on_commit(lambda: feed.offer(observations=[item]))


def datastream_saved(sender, instance, created, raw=False, **kwargs) -> None:
    """``post_save`` of a Datastream created through the API (mirrored Datastreams of new
    series are found when their first samples are announced)."""
    if created and not raw and feed.listening():
        pk = instance.pk
        transaction.on_commit(lambda: feed.offer(datastreams=[pk]))


def observations_created(rows) -> None:
    """Observations-store rows written in bulk (``bulk_create`` sends no ``post_save``)."""
    if feed.listening():
        items = [(r.datastream_id, r.pk) for r in rows if r is not None and r.pk is not None]
        transaction.on_commit(lambda: feed.offer(observations=items))


#: the entity set of each model whose new rows ``entity_saved`` announces (apps.py)
CREATED_BY_MODEL = {
    "Node": "Things",
    "Location": "Locations",
    "HistoricalLocation": "HistoricalLocations",
    "Sensor": "Sensors",
    "ObservedProperty": "ObservedProperties",
    "FeatureOfInterest": "FeaturesOfInterest",
}


def entity_saved(sender, instance, created, raw=False, **kwargs) -> None:
    """``post_save`` of a Thing's node, a Location, a HistoricalLocation, a Sensor, an
    ObservedProperty or a FeatureOfInterest: a new one is announced once committed."""
    if created and not raw and feed.listening():
        item = (CREATED_BY_MODEL[sender.__name__], instance.pk, None)
        transaction.on_commit(lambda: feed.offer(changes=[item]))


def updating(entity_set: Any, instance: Any) -> Callable[[Any], None]:
    """Called by an update before it changes ``instance`` (in its transaction): the
    returned function, given the updated entity, announces it after commit with the
    properties whose value changed (as the JSON-PATCH document shows them). Nobody
    listening: nothing is read."""
    if not feed.listening():
        return lambda updated: None
    from sensorgrid.sensorthings.write.update import document

    before = document(entity_set, instance)

    def done(updated: Any) -> None:
        after = document(entity_set, updated)
        changed = sorted(
            name for name in before.keys() | after.keys() if before.get(name) != after.get(name)
        )
        item = (entity_set.name, updated.pk, changed)
        transaction.on_commit(lambda: feed.offer(changes=[item]))

    return done
