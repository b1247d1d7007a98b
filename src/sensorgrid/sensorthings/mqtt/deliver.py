"""What each subscription hears of a batch of new and updated entities: read through
the REST endpoint's own code, as its user, at delivery time.

For every (user, topic) that some connection subscribed to, the topic's resource path is
resolved for that user (``read.resolve``: the walls, at this moment) and the entities are
read from it with the REST code and the topic's ``$select``:

- a collection (``v1.1/Things``, ``v1.1/Things(1)/Datastreams?$select=name``): each new
  or updated entity of its set that the collection holds for him, as
  ``collection_response`` shows it;
- a single entity (``v1.1/Things(1)``, ``v1.1/Datastreams(2)/Thing``): the entity when
  it was updated, as ``GET`` shows it (``entity_response``);
- a property (``v1.1/Things(1)/name``): ``{"name": value}`` when an update changed it.

So each message is exactly what ``GET`` answers that user now, and a subscriber hears
only what that GET would show him: an entity of another organization, of a Datastream
moved away since the SUBSCRIBE, or outside a public installation's period is not there.
The user is loaded afresh for each batch (memberships, ``is_active``).

Synchronous, database work: the server runs it in a thread of its own.
"""

import logging
import operator
from collections import defaultdict
from dataclasses import dataclass, field, replace
from functools import reduce
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.db.models import Q

from sensorgrid.sensorthings import ids, mirror, read, walls
from sensorgrid.sensorthings.errors import StaError
from sensorgrid.sensorthings.models import Datastream, Store
from sensorgrid.sensorthings.mqtt.feed import from_micros
from sensorgrid.sensorthings.mqtt.topics import Topic
from sensorgrid.sensorthings.schema import ENTITY_SETS
from sensorgrid.sensorthings.views import dumps
from sensorgrid.tenancy.scoping import sees_everything

log = logging.getLogger(__name__)

#: entities read per statement at most (a bigger batch is read in parts)
PART = 1_000


@dataclass
class State:
    """What the server remembers between batches: the newest Datastream announced
    (None while nobody subscribes)."""

    last_datastream: int | None = None


@dataclass
class News:
    """The new and updated entities of a batch, as filters on each set's rows."""

    observations: list[Q] = field(default_factory=list)
    datastreams: list[int] = field(default_factory=list)
    #: Datastreams that have new Observations (to skip other Datastreams' topics)
    touched: set[int] = field(default_factory=set)
    #: entity set → ids of entities created (other than the above) or updated
    entities: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    #: entity set → id of an updated entity → the properties whose value changed
    updated: dict[str, dict[int, set[str]]] = field(default_factory=lambda: defaultdict(dict))

    def parts(self, entity_set: str) -> list[Q]:
        """Filters of the set's new and updated rows, ``PART`` at a time: one row named
        twice in a part (a numeric Observation PATCHed: a new sample and an update) is
        read once."""
        keys = self.entities.get(entity_set) or set()
        if entity_set == "Observations":
            target = ENTITY_SETS[entity_set]
            found = [read.key_filter(target, key) for key in sorted(keys)] + self.observations
            return [_any(found[n : n + PART]) for n in range(0, len(found), PART)]
        if entity_set == "Datastreams":
            keys = keys | set(self.datastreams)
        found_ids = sorted(keys)
        return [Q(pk__in=found_ids[n : n + PART]) for n in range(0, len(found_ids), PART)]


def _any(filters: list[Q]) -> Q:
    return reduce(operator.or_, filters)


def start_state() -> State:
    newest = Datastream.objects.order_by("-pk").values_list("pk", flat=True).first()
    return State(last_datastream=newest or 0)


def news(message: dict[str, Any], state: State) -> News:
    """The new entities ``message`` (feed.py) names, found in the database."""
    out = News()
    samples = message.get("samples") or []
    if samples:
        series: dict[tuple[int, int], list[int]] = defaultdict(list)
        for node_id, quantity_id, us in samples:
            series[(node_id, quantity_id)].append(us)
        datastream_of = _datastreams_of(series)
        if series.keys() - datastream_of.keys():
            # A series that started with this batch becomes its Datastream now (as the
            # first REST request after it would make it).
            mirror.ensure()
            datastream_of = _datastreams_of(series)
        for (node_id, quantity_id), times in series.items():
            pk = datastream_of.get((node_id, quantity_id))
            if pk is None or pk > ids.MAX_DATASTREAM_ID:
                continue
            out.touched.add(pk)
            moments = sorted({from_micros(us) for us in times})
            out.observations.append(
                Q(
                    datastream_id=pk,
                    node_id=node_id,
                    quantity_id=quantity_id,
                    phenomenon_time__in=moments,
                )
            )
    by_datastream: dict[int, list[int]] = defaultdict(list)
    for datastream_id, observation_id in message.get("observations") or []:
        by_datastream[datastream_id].append(observation_id)
    for datastream_id, observation_ids in by_datastream.items():
        out.touched.add(datastream_id)
        out.observations.append(
            Q(datastream_id=datastream_id, observation_id__in=sorted(set(observation_ids)))
        )
    if state.last_datastream is not None:
        fresh = list(
            Datastream.objects.filter(pk__gt=state.last_datastream)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if fresh:
            state.last_datastream = fresh[-1]
        out.datastreams = sorted(set(fresh) | set(message.get("datastreams") or []))
    else:
        out.datastreams = sorted(set(message.get("datastreams") or []))
    for entity_set, key, changed in message.get("changes") or []:
        if entity_set not in ENTITY_SETS:
            continue
        out.entities[entity_set].add(key)
        if changed is not None:
            out.updated[entity_set].setdefault(key, set()).update(changed)
    return out


def _datastreams_of(series) -> dict[tuple[int, int], int]:
    """(node, quantity) → its samples Datastream, for the series named."""
    node_ids = {n for n, _ in series}
    rows = Datastream.objects.filter(store=Store.SAMPLES, node_id__in=node_ids).values_list(
        "pk", "node_id", "quantity_id"
    )
    return {(n, q): pk for pk, n, q in rows}


def load_user(user_id: int | None):
    """The user as he is now (None: the public); None if he is gone or inactive."""
    if user_id is None:
        return AnonymousUser()
    return get_user_model()._default_manager.filter(pk=user_id, is_active=True).first()


def wall_key(user) -> tuple:
    """What decides what ``user`` reads: everything (a superuser), or the organizations he
    is a member of (his role does not change a read) beside the public's share; two users
    with the same key get the same answer to every GET."""
    if sees_everything(user):
        return ("everything",)
    if not user.is_authenticated:
        return ("public",)
    return ("members", walls.member_ids(user))


def _skip(topic: Topic, found: News) -> bool:
    """True when the topic's path goes through a Datastream that has no new
    Observations (``Things(1)/Datastreams(2)/Observations``): no query needed."""
    if topic.entity_set.name != "Observations" or found.entities.get("Observations"):
        return False
    return any(
        segment.entity_set.name == "Datastreams"
        and segment.key is not None
        and segment.key not in found.touched
        for segment in topic.path.segments
    )


def render(topic: Topic, user, found: News, base: str) -> list[bytes]:
    """The messages ``user`` gets on ``topic`` for ``found``: one JSON entity (or
    property) each."""
    if not topic.path.is_collection:
        return _render_single(topic, user, found, base)
    parts = found.parts(topic.entity_set.name)
    if not parts or _skip(topic, found):
        return []
    try:
        resolved = read.resolve(topic.path, user)
    except StaError:
        return []  # the path's entities are gone or hidden from him now
    messages = []
    for part in parts:
        qs = resolved.queryset.filter(part)
        options = replace(topic.options, top=read.MAX_TOP, skip=0, count=False)
        ctx = read.Context(base=base, user=user, path=str(topic.path))
        try:
            body = read.collection_response(qs, topic.entity_set, options, ctx)
        except StaError as exc:
            log.warning("sensorthings mqtt: cannot render %s: %s", topic.text, exc.message)
            continue
        messages += [dumps(entity) for entity in body["value"]]
    return messages


def _render_single(topic: Topic, user, found: News, base: str) -> list[bytes]:
    """An updated entity on its own topic, or its changed property on the property's."""
    updated = found.updated.get(topic.entity_set.name)
    key = topic.path.target.key
    name = topic.path.property_name
    if not updated or (key is not None and key not in updated):
        return []
    if key is not None and name is not None and name not in updated[key]:
        return []
    try:
        resolved = read.resolve(topic.path, user)
    except StaError:
        return []
    assert resolved.instance is not None
    changed = updated.get(resolved.instance.pk)
    if changed is None or (name is not None and name not in changed):
        return []
    options = topic.options if name is None else read.ReadOptions(select=frozenset({name}))
    ctx = read.Context(base=base, user=user, path=str(topic.path))
    try:
        entity = read.entity_response(resolved, options, ctx)
    except StaError as exc:
        log.warning("sensorthings mqtt: cannot render %s: %s", topic.text, exc.message)
        return []
    if name is not None:
        entity = {name: entity.get(name)}
    return [dumps(entity)]
