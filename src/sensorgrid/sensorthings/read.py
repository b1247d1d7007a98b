"""The read path: resource paths through the walls, collections with paging, ``$select``
and nested ``$expand`` in a bounded number of SQL statements.

Every row comes from ``walls.visible(entity_set, user)``: an entity of another
organization, or one anonymous users may not see, is a missing one in every path,
navigation and expansion.

Paging (docs/sensorthings.md): ``$top`` defaults to ``DEFAULT_TOP`` and may be at most
``MAX_TOP``. The order is total (the requested ``$orderby``, then the id), so pages
never repeat or skip a row. When every key of that order is a non-null column (the
default order by id, ``phenomenonTime``, names…), ``@iot.nextLink`` carries a
``$skiptoken`` cursor: the next page starts after the last row by an indexed
comparison instead of counting past ``$skip`` rows, so page 50 costs what page 1 does.
``$skip`` still works as the spec says.

``$expand``: one statement per expanded navigation and per batch of parents, whatever
the number of parents: a to-one navigation is a ``pk IN (…)``; a to-many navigation
gets each parent's ``$top``/``$skip`` window with ``ROW_NUMBER() OVER (PARTITION BY
parent)`` (and on PostgreSQL a ``LATERAL`` join for Observations, which reads only the
rows each parent shows: "the latest Observation of every Thing"); ``$count`` in an
expansion is one grouped count.

One response holds at most ``MAX_ENTITIES`` entities, counted at every level of
``$expand`` (FROST's maxDataSize; nested ``$top`` values multiply otherwise). The
top-level page is fetched first; each expansion then gets what is left: when its
parents times ``$top`` would not fit, each parent shows fewer rows (the same number for
every parent, in one statement as always) and a cut collection carries its own
``@iot.nextLink``. An expanded entity repeated in many parents (to-one) counts every
time it is written: what does not fit cuts the top-level page (with its nextLink), or is a
400 when not even one entity fits. All responses of one ``$batch`` share one budget
(``shared_budget``).
"""

import base64
import binascii
import json
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, cast
from urllib.parse import quote

from django.core.exceptions import FieldDoesNotExist
from django.db import connection, connections, models, transaction
from django.db.models import (
    BooleanField,
    Case,
    Count,
    F,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.expressions import OrderBy, RawSQL
from django.db.models.functions import Greatest, Least, RowNumber
from django.http import QueryDict

from sensorgrid import storable
from sensorgrid.sensorthings import ids, observations, serialize, walls
from sensorgrid.sensorthings import models as sta_models
from sensorgrid.sensorthings.errors import StaError, bad_request, not_found
from sensorgrid.sensorthings.models import Store
from sensorgrid.sensorthings.paths import ResourcePath
from sensorgrid.sensorthings.rows import raw_rows, rows_of
from sensorgrid.sensorthings.schema import (
    DATASTREAMS,
    ENTITY_SETS,
    OBSERVATION_PROPERTIES,
    OBSERVATIONS,
    EntitySet,
    Navigation,
)
from sensorgrid.tenancy.scoping import sees_everything

DEFAULT_TOP = 100
#: Characters nextLinks keep as they are (readable options; the rest percent-encoded).
LINK_SAFE = "$/(),;'=:@"
MAX_TOP = 10_000
#: Levels of nested $expand (Things → Datastreams → Observations is 2).
MAX_EXPAND_DEPTH = 5
#: Entities one response may hold, at all levels of $expand together (about 25 MB of
#: JSON with plain Observations, FROST's default maxDataSize).
MAX_ENTITIES = 100_000

#: Options this module reads; $filter and $orderby go to the query package.
OWN_OPTIONS = {"$top", "$skip", "$count", "$select", "$expand", "$skiptoken", "$resultFormat"}
#: ``$resultFormat=dataArray`` (OGC 18-088 §14.3): Observations as arrays per Datastream.
DATA_ARRAY = "dataArray"
DATA_ARRAY_COMPONENTS = ("id", *OBSERVATION_PROPERTIES)
QUERY_OPTIONS = {"$filter", "$orderby"}
CANONICAL = {name.lower(): name for name in OWN_OPTIONS | QUERY_OPTIONS}


# --- query options ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Expansion:
    navigation: str
    options: "ReadOptions"


@dataclass(frozen=True, slots=True)
class ReadOptions:
    top: int | None = None
    skip: int = 0
    count: bool = False
    select: frozenset[str] | None = None
    expand: tuple[Expansion, ...] = ()
    #: $filter / $orderby, as given (for the query package and for nextLinks).
    query: dict[str, str] = field(default_factory=dict)
    skiptoken: str | None = None
    #: ``$select`` in request order (``$resultFormat=dataArray`` components follow it).
    select_order: tuple[str, ...] = ()
    result_format: str | None = None

    def raw(self, **changes: str | None) -> list[tuple[str, str]]:
        """These options as query parameters (for a nextLink), with ``changes``."""
        items: dict[str, str | None] = {}
        if self.top is not None:
            items["$top"] = str(self.top)
        if self.skip:
            items["$skip"] = str(self.skip)
        if self.count:
            items["$count"] = "true"
        items.update(self.query)
        if self.result_format is not None:
            items["$resultFormat"] = self.result_format
        if self.select is not None:
            items["$select"] = ",".join(self.select_order or sorted(self.select))
        if self.expand:
            items["$expand"] = ",".join(_expand_text(e) for e in self.expand)
        items.update(changes)
        return [(k, v) for k, v in items.items() if v is not None]


def _expand_text(expansion: Expansion) -> str:
    inner = ";".join(f"{k}={v}" for k, v in expansion.options.raw())
    return f"{expansion.navigation}({inner})" if inner else expansion.navigation


def parse_options(params: dict[str, str], entity_set: EntitySet, depth: int = 0) -> ReadOptions:
    """The query options ``params`` (name → text) of a request on ``entity_set``; option
    names in any case (``$orderBy``: FROST and OData 4.01 accept it)."""
    params = {CANONICAL.get(k.lower(), k): v for k, v in params.items()}
    unknown = [
        name for name in params if name.startswith("$") and name not in OWN_OPTIONS | QUERY_OPTIONS
    ]
    if unknown:
        raise bad_request(f"Unknown query option {unknown[0]}.")
    top = _integer(params, "$top")
    if top is not None and top > MAX_TOP:
        raise bad_request(f"$top may be at most {MAX_TOP}.")
    skip = _integer(params, "$skip") or 0
    count_text = params.get("$count")
    if count_text is not None and count_text.lower() not in ("true", "false"):
        raise bad_request("$count is true or false.")
    select = _select(params.get("$select"), entity_set)
    expand = _expand(params.get("$expand"), entity_set, depth)
    query = {k: v for k, v in params.items() if k in QUERY_OPTIONS}
    options = ReadOptions(
        top=top,
        skip=skip,
        count=(count_text or "").lower() == "true",
        select=select,
        expand=expand,
        query=query,
        skiptoken=params.get("$skiptoken"),
        select_order=tuple(n.strip() for n in params["$select"].split(","))
        if select is not None
        else (),
        result_format=_result_format(params.get("$resultFormat"), entity_set),
    )
    _query_options(options, entity_set)  # validates $filter/$orderby now: 400 early
    return options


def _integer(params: dict[str, str], name: str) -> int | None:
    text = params.get(name)
    if text is None:
        return None
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise bad_request(f"{name} is a non-negative integer, not {text!r}.")
    return int(text)


def _result_format(text: str | None, entity_set: EntitySet) -> str | None:
    if text is None:
        return None
    if text.lower() != DATA_ARRAY.lower():
        raise bad_request(f"$resultFormat: only {DATA_ARRAY} is supported, not {text!r}.")
    if entity_set is not OBSERVATIONS:
        raise bad_request(f"$resultFormat={DATA_ARRAY} applies to Observations only.")
    return DATA_ARRAY


def _select(text: str | None, entity_set: EntitySet) -> frozenset[str] | None:
    if text is None:
        return None
    names = [n.strip() for n in text.split(",")]
    allowed = (
        set(serialize.properties(entity_set))
        | set(entity_set.navigations)
        | {"id", "@iot.id", "@iot.selfLink"}
    )
    for name in names:
        if name not in allowed:
            raise bad_request(f"$select: a {entity_set.singular} has no property {name!r}.")
    return frozenset(names)


def split_top_level(text: str, separator: str) -> list[str]:
    """``text`` split at ``separator`` outside parentheses and quoted strings."""
    parts: list[str] = []
    depth = 0
    quoted = False
    start = 0
    for i, char in enumerate(text):
        if char == "'":
            quoted = not quoted
        elif quoted:
            continue
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise bad_request(f"Unbalanced parentheses in {text!r}.")
        elif char == separator and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    if depth or quoted:
        raise bad_request(f"Unbalanced parentheses or quotes in {text!r}.")
    parts.append(text[start:])
    return parts


def _expand(text: str | None, entity_set: EntitySet, depth: int) -> tuple[Expansion, ...]:
    if text is None:
        return ()
    if depth >= MAX_EXPAND_DEPTH:
        raise bad_request(f"$expand nests at most {MAX_EXPAND_DEPTH} levels.")
    merged: dict[str, Expansion] = {}
    for item in split_top_level(text, ","):
        item = item.strip()
        inner = ""
        if item.endswith(")") and "(" in item:
            item, _, inner = item.partition("(")
            inner = inner[:-1]
        path = [p.strip() for p in item.split("/")]
        merged_item = _expansion(path, inner, entity_set, depth)
        previous = merged.get(merged_item.navigation)
        if previous is not None:  # Datastreams/Sensor,Datastreams/Thing → one Datastreams
            options = replace(
                previous.options, expand=previous.options.expand + merged_item.options.expand
            )
            merged_item = Expansion(merged_item.navigation, options)
        merged[merged_item.navigation] = merged_item
    return tuple(merged.values())


def _expansion(path: list[str], inner: str, entity_set: EntitySet, depth: int) -> Expansion:
    name = path[0]
    navigation = entity_set.navigations.get(name)
    if navigation is None:
        raise bad_request(f"$expand: a {entity_set.singular} has no navigation {name!r}.")
    target = ENTITY_SETS[navigation.target]
    if len(path) > 1:
        options = ReadOptions(expand=(_expansion(path[1:], inner, target, depth + 1),))
        return Expansion(name, options)
    params: dict[str, str] = {}
    if inner.strip():
        for option in split_top_level(inner, ";"):
            key, equals, value = option.partition("=")
            if not equals:
                raise bad_request(f"$expand: {option!r} is not an option ($name=value).")
            params[key.strip()] = value
    if "$skiptoken" in params:
        raise bad_request("$expand: $skiptoken is not an expansion option.")
    return Expansion(name, parse_options(params, target, depth + 1))


# --- $filter and $orderby (the query package) -----------------------------------------


def _query_options(options: ReadOptions, entity_set: EntitySet) -> Any:
    """The query package's parsed $filter/$orderby of ``options`` (None without any)."""
    if not options.query:
        return None
    from sensorgrid.sensorthings import query

    if not hasattr(query, "parse_options") or not hasattr(query, "apply"):
        raise bad_request("$filter and $orderby are not available yet.")
    querydict = QueryDict(mutable=True)
    for key, value in options.query.items():
        querydict[key] = value
    return query.parse_options(querydict, entity_set)


def apply_query(qs: models.QuerySet, entity_set: EntitySet, options: ReadOptions, user):
    """``qs`` filtered and ordered by ``options``' $filter/$orderby; a path in $filter to
    related entities sees only the rows ``user`` sees (the walls)."""
    parsed = _query_options(options, entity_set)
    if parsed is None:
        return qs
    from sensorgrid.sensorthings import query

    return query.apply(
        qs, entity_set, parsed, visible=lambda es: visible(es, user), areas=areas_wall(user)
    )


def areas_wall(user) -> frozenset[int] | None:
    """The organizations whose Datastreams' observedArea ``user`` may read: his own
    (None: all, a superuser). The area sums up the features of every Observation of the
    Datastream, also those a reader outside its organization may not see (a public
    Datastream's Observations before or after its public period, at a private site), so
    for him it is null, in the answer and in $filter (security review, medium)."""
    if sees_everything(user):
        return None
    return walls.member_ids(user)


# --- ordering and keyset paging ---------------------------------------------------------


def ordering(qs: models.QuerySet) -> list[OrderBy]:
    """The order of ``qs`` made total: its $orderby (else by id), then the primary key."""
    terms: list[OrderBy] = []
    for item in qs.query.order_by:
        if isinstance(item, str):
            descending = item.startswith("-")
            terms.append(OrderBy(F(item.lstrip("-")), descending=descending))
        elif isinstance(item, OrderBy):
            terms.append(item)
        else:
            terms.append(OrderBy(cast(Any, item)))
    if not any(_is_pk(t, qs.model) for t in terms):
        terms.append(OrderBy(F("pk")))
    if qs.model is sta_models.SampleRow:
        return _by_time(terms)
    return terms


def _by_time(terms: list[OrderBy]) -> list[OrderBy]:
    """One series' samples: the id (Datastream << 43 | milliseconds) orders as the time,
    which is unique in a series; ordering by the time alone lets PostgreSQL walk the
    samples' (node, quantity, ts) index instead of sorting the series by a computed id."""
    out: list[OrderBy] = []
    for term in terms:
        expression = term.expression
        if isinstance(expression, F) and expression.name in ("pk", "id"):
            term = OrderBy(F("phenomenon_time"), descending=term.descending)
        if any(_same_column(term, seen) for seen in out):
            continue
        out.append(term)
    return out


def _same_column(a: OrderBy, b: OrderBy) -> bool:
    return (
        isinstance(a.expression, F)
        and isinstance(b.expression, F)
        and a.expression.name == b.expression.name
    )


def _is_pk(term: OrderBy, model: type[models.Model]) -> bool:
    expression = term.expression
    return isinstance(expression, F) and expression.name in ("pk", model._meta.pk.name)


def _keyset_fields(terms: list[OrderBy], model: type[models.Model]) -> list[str] | None:
    """The column names of ``terms`` if every one is a non-null column of ``model``."""
    names: list[str] = []
    for term in terms:
        expression = term.expression
        if not isinstance(expression, F) or "__" in expression.name:
            return None
        name = model._meta.pk.name if expression.name == "pk" else expression.name
        try:
            model_field: Any = model._meta.get_field(name)
        except FieldDoesNotExist:
            return None
        if getattr(model_field, "null", True) or not getattr(model_field, "concrete", False):
            return None
        names.append(model_field.attname)
    return names


def _encode_cursor(values: list[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    raw = json.dumps(plain, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(token: str, terms: list[OrderBy], model: type[models.Model]) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        values = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise bad_request("$skiptoken is not one this service wrote.") from None
    if storable.find_in_json(values) is not None:  # a lone surrogate no query can carry
        raise bad_request("$skiptoken is not one this service wrote.")
    if not isinstance(values, list) or len(values) != len(terms):
        raise bad_request("$skiptoken does not fit this $orderby.")
    decoded: list[Any] = []
    for term, value in zip(terms, values, strict=True):
        name = cast(Any, term.expression).name
        name = model._meta.pk.name if name == "pk" else name
        model_field = model._meta.get_field(name)
        try:
            if isinstance(model_field, models.DateTimeField):
                decoded.append(datetime.fromisoformat(value))
            elif isinstance(model_field, models.IntegerField | models.AutoField):
                if not isinstance(value, int) or isinstance(value, bool):
                    raise TypeError
                decoded.append(value)
            elif isinstance(value, str | int | float):
                decoded.append(value)
            else:
                raise TypeError
        except (TypeError, ValueError):
            raise bad_request("$skiptoken is not one this service wrote.") from None
    return decoded


def _after(fields: list[str], terms: list[OrderBy], values: list[Any]) -> Q:
    """Rows after ``values`` in the order ``terms``: (a > x) or (a = x and b > y) or …"""
    condition = Q(pk__in=[])
    for i, name in enumerate(fields):
        step = Q(**{f"{fields[j]}": values[j] for j in range(i)})
        comparison = "lt" if terms[i].descending else "gt"
        step &= Q(**{f"{name}__{comparison}": values[i]})
        condition |= step
    return condition


# --- loading rows -------------------------------------------------------------------------


def visible(entity_set: EntitySet, user) -> models.QuerySet:
    """Rows of ``entity_set`` that ``user`` may see, with the set's computed columns."""
    if entity_set is OBSERVATIONS and user is not None:
        # ``walls.visible``'s filter, read once per request (``observations_wall``): an
        # expansion of Observations read the public installations a second time
        wall = observations_wall(user)
        qs = entity_set.queryset()
        qs = qs if wall is None else qs.filter(wall)
    else:
        qs = walls.visible(entity_set, user)
    missing = {k: v for k, v in entity_set.computed.items() if k not in qs.query.annotations}
    return qs.annotate(**missing) if missing else qs


def key_filter(entity_set: EntitySet, key: int) -> Q:
    """Rows with ``@iot.id`` ``key``; for Observations a filter on the indexed columns
    the id encodes (``ids.lookup``: the view's ``id`` is computed)."""
    if entity_set is OBSERVATIONS:
        return ids.lookup(key)
    return Q(pk=key)


def prepare(
    qs: models.QuerySet, entity_set: EntitySet, select: frozenset[str] | None, user
) -> models.QuerySet:
    """``qs`` with what serializing ``select`` of ``entity_set`` reads: properties on
    related rows, a Datastream's times from its Observations."""
    wanted = serialize.properties(entity_set) if select is None else select
    annotations: dict[str, Any] = {}
    for name in wanted:
        lookup = entity_set.properties.get(name)
        if lookup and "__" in lookup:
            annotations[serialize.RELATED_PREFIX + name] = F(lookup)
    if entity_set.name == "Datastreams":
        annotations.update(_datastream_times(wanted, user))
        areas = areas_wall(user)
        if "observedArea" in wanted and areas is not None:
            annotations[serialize.AREA_HIDDEN] = Case(
                When(organization_id__in=areas, then=Value(False)),
                default=Value(True),
                output_field=BooleanField(),
            )
    return qs.annotate(**annotations) if annotations else qs


def observations_wall(user) -> Q | None:
    """``walls.observations_q(user)``, computed once per request (kept on the request's
    user object: two small queries, and every expansion level would repeat them)."""
    cached: Any = getattr(user, "_sta_observations_wall", False)
    if cached is False:
        cached = walls.observations_q(user)
        user._sta_observations_wall = cached
    return cached


def _datastream_times(wanted, user) -> dict[str, Any]:
    """A Datastream's phenomenonTime and resultTime spans, from the Observations of its
    own store that ``user`` may see: the samples store through ``SampleRow`` on the
    series' index (the two-store view cannot be ordered by an index on PostgreSQL), the
    observations store through the view, whose samples branch a Datastream without a
    quantity leaves at once."""
    samples: models.QuerySet = sta_models.SampleRow.objects.filter(
        node_id=OuterRef("node_id"),
        quantity_id=OuterRef("quantity_id"),
        datastream_id=OuterRef("pk"),
    )
    # node_id is null in the observations store only: PostgreSQL then leaves the samples
    # branch (every partition) out of the plan at once (planning time, 2,000 Datastreams)
    rows: models.QuerySet = sta_models.ObservationRow.objects.filter(
        datastream_id=OuterRef("pk"), node_id__isnull=True
    )
    wall = observations_wall(user)
    if wall is not None:
        samples, rows = samples.filter(wall), rows.filter(wall)
    samples, rows = samples.order_by(), rows.order_by()

    def span(order: str, only: Q | None = None) -> Case:
        picked = [q.filter(only) if only is not None else q for q in (samples, rows)]
        if only is not None:  # a column of SampleDetails: only the series' few details rows
            details = sta_models.SampleDetails.objects.filter(
                only,
                node_id=OuterRef(OuterRef("node_id")),
                quantity_id=OuterRef(OuterRef("quantity_id")),
            )
            picked[0] = picked[0].filter(phenomenon_time__in=details.values("ts"))
        return Case(
            When(store=Store.SAMPLES, then=_first_sample(picked[0], order, only is None)),
            default=_first(picked[1], order),
        )

    out: dict[str, Any] = {}
    if "phenomenonTime" in wanted:
        out["_sta_pt_first"] = span("phenomenon_time")
        out["_sta_pt_last"] = span("-phenomenon_time")
        out["_sta_pt_last_end"] = span("-phenomenon_time_end", Q(phenomenon_time_end__isnull=False))
    if "resultTime" in wanted:
        with_result_time = Q(result_time__isnull=False)
        out["_sta_rt_first"] = span("result_time", with_result_time)
        out["_sta_rt_last"] = span("-result_time", with_result_time)
    return out


#: The annotations of ``_datastream_times`` (their subqueries make a plan of many nodes).
_TIME_ANNOTATIONS = ("_sta_pt_first", "_sta_rt_first")


def fetch(qs: models.QuerySet) -> list[Any]:
    """The rows of ``qs``, as ``rows.Row``s (no model instances: they are only
    serialized). On PostgreSQL, a statement with Datastream times runs without
    JIT compilation: each of its per-series subqueries reads an index entry or a few
    details rows, but their estimated cost passes ``jit_above_cost`` and compiling the
    plan (a node per samples partition per subquery) took 0.7 s of a 0.85 s statement."""
    timed = any(name in qs.query.annotations for name in _TIME_ANNOTATIONS)
    if not timed or connections[qs.db].vendor != "postgresql":
        return rows_of(qs)
    with transaction.atomic(using=qs.db, savepoint=False):  # SET LOCAL: till its end
        with connections[qs.db].cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
        return rows_of(qs)


def _first(qs: models.QuerySet, order: str) -> Subquery:
    column = order.lstrip("-")
    return Subquery(qs.order_by(order).values(column)[:1])


def _first_sample(qs: models.QuerySet, order: str, by_time: bool) -> Any:
    """``_first`` of a series' samples; by their time on a partitioned table, the first of
    the partitions (read in order, stopping at the first holding rows) and the first of
    the default partition (``observations.by_partitions``): one or a few index descents
    per series instead of one per partition."""
    split = observations.by_partitions() if by_time else None
    if split is None:
        return _first(qs, order)
    pick = Greatest if order.startswith("-") else Least
    return pick(*(_first(qs.filter(condition), order) for condition in split))


# --- resolving a path ----------------------------------------------------------------------


@dataclass
class Resolved:
    """Where a path leads: the set, the rows (``queryset``), and for a single entity
    the row itself; ``parent`` is the entity and navigation a collection hangs from."""

    entity_set: EntitySet
    queryset: models.QuerySet
    instance: models.Model | None = None
    parent: tuple[EntitySet, models.Model, Navigation] | None = None


def reverse_lookup(entity_set: EntitySet, navigation: Navigation) -> str:
    """The ORM lookup from the navigation's target model back to ``entity_set``'s."""
    relation: Any = entity_set.model._meta.get_field(navigation.lookup)
    if relation.auto_created and not relation.concrete:  # a reverse relation
        return str(relation.field.name)
    return str(relation.related_query_name())


def resolve(path: ResourcePath, user) -> Resolved:
    """Walk ``path`` through the walls; a step that is missing or unrelated is a 404.

    One query per entity on the way (``Things(1)/Datastreams(2)/Observations``: two);
    the collection at the end stays a lazy queryset.
    """
    first = path.segments[0]
    if first.entity_set is OBSERVATIONS and first.key is not None:
        qs = _observation_by_id(first.key, user)
        instance = _one(qs, first)
        return _walk(path, user, Resolved(first.entity_set, qs, instance))
    qs = visible(first.entity_set, user)
    if first.key is None:
        return Resolved(first.entity_set, qs)
    found = qs.filter(key_filter(first.entity_set, first.key))
    if first.entity_set is DATASTREAMS and len(path.segments) > 1:
        found = found.annotate(**{observations.MEMBER: observations.membership(user)})
    instance = _one(found, first)
    return _walk(path, user, Resolved(first.entity_set, qs, instance))


def _walk(path: ResourcePath, user, current: Resolved) -> Resolved:
    for segment in path.segments[1:]:
        navigation = segment.navigation
        assert navigation is not None and current.instance is not None
        if not navigation.many:
            target_qs = visible(segment.entity_set, user)
            related: Any = current.entity_set.model._meta.get_field(navigation.lookup)
            fk = getattr(current.instance, related.attname)
            found = target_qs.filter(pk=fk).first() if fk is not None else None
            if found is None:
                raise StaError(
                    404,
                    f"{current.entity_set.singular} {current.instance.pk} has no "
                    f"{navigation.name}.",
                )
            current = Resolved(segment.entity_set, target_qs.filter(pk=fk), found)
            continue
        reverse = reverse_lookup(current.entity_set, navigation)
        here = cast(models.Model, current.instance)
        if current.entity_set is DATASTREAMS and segment.entity_set is OBSERVATIONS:
            # the Datastream's own store, off its index (observations.of_datastream)
            related_qs = observations.of_datastream(cast(Any, here), user)
        else:
            related_qs = visible(segment.entity_set, user).filter(**{reverse: here.pk})
        parent = (current.entity_set, here, navigation)
        if segment.key is None:
            return Resolved(segment.entity_set, related_qs, None, parent)
        found = _one(related_qs.filter(key_filter(segment.entity_set, segment.key)), segment)
        current = Resolved(segment.entity_set, related_qs, found, parent)
    return current


def _observation_by_id(key: int, user) -> models.QuerySet:
    """The Observation ``key`` from its Datastream's own store (``ids.locate``), if the
    Datastream is visible; an empty queryset otherwise."""
    located = ids.locate(key)
    datastream = None
    if located is not None:
        datastream = (
            visible(DATASTREAMS, user)
            .filter(pk=located.datastream_id)
            .annotate(**{observations.MEMBER: observations.membership(user)})
            .first()
        )
    if located is None or datastream is None:
        return sta_models.ObservationRow.objects.none()
    return observations.of_datastream(cast(Any, datastream), user).filter(located.q)


def _one(qs: models.QuerySet, segment) -> models.Model:
    found = qs.order_by().first()
    if found is None:
        raise not_found(segment.entity_set.singular, segment.key)
    return found


# --- responses -----------------------------------------------------------------------------


@dataclass(slots=True)
class Budget:
    """The entities a response may still hold (``MAX_ENTITIES`` at first)."""

    left: int = field(default_factory=lambda: MAX_ENTITIES)


_SHARED: ContextVar[Budget | None] = ContextVar("sensorthings_budget", default=None)


@contextmanager
def shared_budget() -> Iterator[Budget]:
    """Every response built inside draws on one budget (a ``$batch``'s responses are
    one response)."""
    current = _SHARED.get()
    if current is not None:
        yield current
        return
    budget = Budget()
    token = _SHARED.set(budget)
    try:
        yield budget
    finally:
        _SHARED.reset(token)


def _budget() -> Budget:
    return _SHARED.get() or Budget()


def _too_big() -> StaError:
    return bad_request(
        f"The response would hold more than {MAX_ENTITIES} entities (all levels of "
        "$expand together, and all responses of one $batch); ask for fewer with $top, "
        "$select or a smaller $expand."
    )


@dataclass(frozen=True)
class Context:
    """What building links needs: the service root URL, the user, the request's path;
    and the entity budget of the response."""

    base: str
    user: Any
    path: str = ""
    budget: Budget = field(default_factory=_budget, compare=False)


def entity_response(resolved: Resolved, options: ReadOptions, ctx: Context) -> dict:
    assert resolved.instance is not None
    entity_set = resolved.entity_set
    if entity_set is OBSERVATIONS:  # loaded whole by resolve(); nothing to add
        rows = [resolved.instance]
    else:
        qs = resolved.queryset.filter(pk=resolved.instance.pk)
        rows = fetch(prepare(qs, entity_set, options.select, ctx.user).order_by()[:1])
    if not rows:  # deleted meanwhile
        raise not_found(entity_set.singular, resolved.instance.pk)
    start = ctx.budget.left
    ctx.budget.left -= 1
    expanded, sizes = _expand_rows(rows, entity_set, options.expand, ctx)
    if sizes[0] and 1 + sizes[0] > start:  # an entity alone is always served
        raise _too_big()
    ctx.budget.left = start - 1 - sizes[0]
    return serialize.entity(
        entity_set, rows[0], base=ctx.base, select=options.select, expanded=expanded[0]
    )


def collection_response(
    qs: models.QuerySet, entity_set: EntitySet, options: ReadOptions, ctx: Context, *, refs=False
) -> dict:
    """``{"@iot.count", "value", "@iot.nextLink"}`` of the rows of ``qs``."""
    qs = apply_query(qs, entity_set, options, ctx.user)
    terms = ordering(qs)
    out: dict[str, Any] = {}
    if options.count:
        out["@iot.count"] = qs.order_by().count()
    top = DEFAULT_TOP if options.top is None else options.top
    start = ctx.budget.left
    if top > 0 and start <= 0:
        raise _too_big()
    limit = min(top, start)  # rows of this page (cut to the budget: nextLink)
    keyset = _keyset_fields(terms, qs.model)
    after: list[Any] | None = None
    if options.skiptoken is not None:
        if keyset is None:
            raise bad_request("$skiptoken does not fit this $orderby.")
        after = _decode_cursor(options.skiptoken, terms, qs.model)
        qs = qs.filter(_after(keyset, terms, after))
    qs = qs.order_by(*terms)
    select = frozenset({"id"}) if refs else options.select
    if not refs:
        qs = prepare(qs, entity_set, select, ctx.user)
    if _in_id_order(qs, terms) and not options.skip:
        # after a cursor: from the Datastream of its id on
        first = after[0] >> ids.SHIFT if after else None
        rows = _by_datastreams(qs, terms[0].descending, limit + 1, first)
    elif qs.model is sta_models.SampleRow:  # one series: partition after partition
        rows = observations.window(qs, options.skip, options.skip + limit + 1)
    else:
        rows = fetch(qs[options.skip : options.skip + limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    ctx.budget.left -= len(rows)
    if refs:
        out["value"] = [serialize.ref(ctx.base, entity_set, row.pk) for row in rows]
    elif options.result_format == DATA_ARRAY:
        out["value"] = _data_array(rows, options, ctx)
    else:
        expanded, sizes = _expand_rows(rows, entity_set, options.expand, ctx)
        kept, used = _fitting(sizes, start)
        if kept == 0 and rows:
            raise _too_big()
        if kept < len(rows):  # expanded entities repeated in many rows: cut the page
            rows, expanded, more = rows[:kept], expanded[:kept], True
        ctx.budget.left = start - used
        out["value"] = [
            serialize.entity(entity_set, row, base=ctx.base, select=select, expanded=extra)
            for row, extra in zip(rows, expanded, strict=True)
        ]
    if more:
        if top == 0:  # nothing to continue after: the next page is a default-sized one
            params = options.raw(**{"$top": None})
        elif keyset is not None:
            last = rows[-1]
            cursor = _encode_cursor([getattr(last, name) for name in keyset])
            params = [*options.raw(**{"$skip": None}), ("$skiptoken", cursor)]
        else:
            params = options.raw(**{"$skip": str(options.skip + len(rows))})
        out["@iot.nextLink"] = f"{ctx.base}{ctx.path}?{_query_string(params)}"
    return out


def _in_id_order(qs: models.QuerySet, terms: list[OrderBy]) -> bool:
    """Whether ``qs`` is the two-store view ordered by the Observation id alone (the
    default order of ``/Observations``)."""
    return (
        qs.model is sta_models.ObservationRow
        and len(terms) == 1
        and _is_pk(terms[0], qs.model)
        and not qs.query.is_sliced
    )


#: Datastreams of the first statement of ``_by_datastreams``; each next one reads
#: ``_BATCH_GROWTH`` times as many.
_FIRST_BATCH = 1
_BATCH_GROWTH = 8


def _by_datastreams(
    qs: models.QuerySet, descending: bool, limit: int, first: int | None = None
) -> list[Any]:
    """The first ``limit`` rows of ``qs`` (the two-store view) in id order, read a few
    Datastreams at a time.

    An Observation id is ``datastream_id << 43 | low`` (``ids``), so the id order is the
    order of the Datastreams, then of the ids within each. PostgreSQL cannot walk the
    view in the order of its computed id: ``ORDER BY id LIMIT n`` joined and sorted every
    Observation the reader sees (0.45 s for one row of 400,000, docs/performance.md).
    Narrowed to a few Datastreams, each branch reads those series off their indexes; the
    batches grow (1, 8, 64, … Datastreams) so a sparse ``$filter`` costs a few statements
    more than one over all of them, never one per Datastream.
    """
    streams = sta_models.Datastream.objects.filter(pk__lte=ids.MAX_DATASTREAM_ID)
    if first is not None:  # from Datastream ``first`` on
        streams = streams.filter(pk__lte=first) if descending else streams.filter(pk__gte=first)
    order = "-pk" if descending else "pk"
    rows: list[Any] = []
    batch, last = _FIRST_BATCH, None
    while len(rows) < limit:
        page = streams.order_by(order)
        if last is not None:
            page = page.filter(pk__lt=last) if descending else page.filter(pk__gt=last)
        chunk = list(page.values_list("pk", flat=True)[:batch])
        if not chunk:
            break
        last = chunk[-1]
        rows += fetch(qs.filter(datastream_id__in=chunk)[: limit - len(rows)])
        if len(chunk) < batch:
            break
        batch *= _BATCH_GROWTH
    return rows


def _fitting(sizes: list[int], budget: int) -> tuple[int, int]:
    """How many of the first rows (each 1 + ``sizes[i]`` entities) fit in ``budget``,
    and the entities they hold."""
    used = 0
    for kept, size in enumerate(sizes):
        if used + 1 + size > budget:
            return kept, used
        used += 1 + size
    return len(sizes), used


def _data_array(rows: list[Any], options: ReadOptions, ctx: Context) -> list[dict]:
    """A page of Observations as FROST's dataArray: one item per Datastream (in the order
    the page meets them) with the components and one array of values per Observation."""
    wanted = [("id" if n == "@iot.id" else n) for n in options.select_order]
    components = [n for n in wanted if n in DATA_ARRAY_COMPONENTS] or list(DATA_ARRAY_COMPONENTS)
    groups: dict[int, list[list[Any]]] = {}
    for row in rows:
        groups.setdefault(row.datastream_id, []).append(
            [serialize.value(OBSERVATIONS, row, name) for name in components]
        )
    return [
        {
            "Datastream@iot.navigationLink": serialize.self_link(ctx.base, DATASTREAMS, key),
            "components": components,
            "dataArray@iot.count": len(values),
            "dataArray": values,
        }
        for key, values in groups.items()
    ]


def _query_string(params: list[tuple[str, str]]) -> str:
    return "&".join(f"{k}={quote(v, safe=LINK_SAFE)}" for k, v in params)


# --- $expand -------------------------------------------------------------------------------


def expand_rows(
    rows: list[models.Model],
    entity_set: EntitySet,
    expansions: tuple[Expansion, ...],
    ctx: Context,
) -> list[dict[str, Any]]:
    """For each of ``rows``, the expanded navigations to put inline (same order)."""
    return _expand_rows(rows, entity_set, expansions, ctx)[0]


def _expand_rows(
    rows: list[models.Model],
    entity_set: EntitySet,
    expansions: tuple[Expansion, ...],
    ctx: Context,
) -> tuple[list[dict[str, Any]], list[int]]:
    """``expand_rows`` and, for each row, the entities its expansions write."""
    extras: list[dict[str, Any]] = [{} for _ in rows]
    sizes = [0 for _ in rows]
    if not rows or not expansions:
        return extras, sizes
    for expansion in expansions:
        navigation = entity_set.navigations[expansion.navigation]
        target = ENTITY_SETS[navigation.target]
        expand = _expand_many if navigation.many else _expand_one
        expand(rows, entity_set, navigation, target, expansion.options, ctx, extras, sizes)
    return extras, sizes


def _expand_one(rows, entity_set, navigation, target, options, ctx, extras, sizes) -> None:
    """A to-one navigation, always whole (at most one entity per row)."""
    related: Any = entity_set.model._meta.get_field(navigation.lookup)
    keys = [getattr(row, related.attname) for row in rows]
    wanted = {k for k in keys if k is not None}
    qs = visible(target, ctx.user).filter(pk__in=wanted).order_by()
    found = fetch(prepare(qs, target, options.select, ctx.user)) if wanted else []
    ctx.budget.left -= len(found)
    children, child_sizes = _expand_rows(found, target, options.expand, ctx)
    by_pk = {
        child.pk: (
            serialize.entity(
                target,
                child,
                base=ctx.base,
                select=options.select,
                navigation_links=False,
                expanded=extra,
            ),
            1 + size,
        )
        for child, extra, size in zip(found, children, child_sizes, strict=True)
    }
    for index, (key, extra) in enumerate(zip(keys, extras, strict=True)):
        if key in by_pk:
            extra[navigation.name], size = by_pk[key]
            sizes[index] += size  # written once in every row that has it


def _expand_many(rows, entity_set, navigation, target, options, ctx, extras, sizes) -> None:
    reverse = reverse_lookup(entity_set, navigation)
    parents = list(dict.fromkeys(row.pk for row in rows))
    qs = visible(target, ctx.user).annotate(_sta_parent=F(reverse))
    qs = apply_query(qs.filter(_sta_parent__in=parents), target, options, ctx.user)
    terms = ordering(qs)
    top = DEFAULT_TOP if options.top is None else options.top
    # Each parent shows at most ``shown`` rows (one more is read to know if there are
    # more): ``top``, or less so that all parents' rows fit in the budget left.
    shown = top
    if top > 0 and len(parents) * (top + 1) > ctx.budget.left:
        shown = max(ctx.budget.left, 0) // len(parents) - 1  # -1: none read
    counts: dict[Any, int] = {}
    if options.count:
        grouped = qs.order_by().values("_sta_parent").annotate(_sta_n=Count("pk"))
        counts = {g["_sta_parent"]: g["_sta_n"] for g in grouped}
    children: list[Any] = []
    if shown <= 0:
        pass
    elif entity_set is DATASTREAMS and target is OBSERVATIONS and connection.vendor == "postgresql":
        children = _observations_of(rows, options, shown, ctx)
    else:
        children = _windowed(qs, parents, target, terms, options, shown, ctx)
    by_parent: dict[Any, list] = defaultdict(list)
    for child in children:
        by_parent[child._sta_parent].append(child)
    cut: dict[Any, bool] = {}
    kept: list[Any] = []
    for key in parents:
        mine = by_parent.get(key, [])
        # not read at all (``shown`` < 0 or 0 of ``top``): maybe more
        cut[key] = len(mine) > max(shown, 0) or (shown < top and shown <= 0)
        by_parent[key] = mine[: max(shown, 0)]
        kept += by_parent[key]
    ctx.budget.left -= len(kept)
    nested, nested_sizes = _expand_rows(kept, target, options.expand, ctx)
    rendered = {
        id(child): (
            serialize.entity(
                target,
                child,
                base=ctx.base,
                select=options.select,
                navigation_links=False,
                expanded=extra,
            ),
            1 + size,
        )
        for child, extra, size in zip(kept, nested, nested_sizes, strict=True)
    }
    # a cut collection's nextLink differs between parents only by the rows it shows:
    # its query string is built once per count (2,000 Datastreams, one string)
    queries: dict[int, str] = {}
    for index, (row, extra) in enumerate(zip(rows, extras, strict=True)):
        mine = by_parent.get(row.pk, [])
        extra[navigation.name] = [rendered[id(child)][0] for child in mine]
        sizes[index] += sum(rendered[id(child)][1] for child in mine)
        if options.count:
            extra[f"{navigation.name}@iot.count"] = counts.get(row.pk, 0)
        if cut.get(row.pk):
            query = queries.get(len(mine))
            if query is None:
                skip = str(options.skip + len(mine))
                query = _query_string(options.raw(**{"$top": str(top), "$skip": skip}))
                queries[len(mine)] = query
            link = serialize.self_link(ctx.base, entity_set, row.pk)
            extra[f"{navigation.name}@iot.nextLink"] = f"{link}/{navigation.name}?{query}"


def _windowed(qs, parents, target, terms, options, top, ctx) -> list[Any]:
    """Each parent's rows ``skip+1 … skip+top+1`` in the order ``terms``, one statement."""
    qs = prepare(qs, target, options.select, ctx.user)
    if target is OBSERVATIONS and connection.vendor == "postgresql":
        return _lateral(qs, parents, terms, options.skip, top + 1)
    qs = qs.annotate(
        _sta_rn=Window(RowNumber(), partition_by=[F("_sta_parent")], order_by=terms)
    ).filter(_sta_rn__gt=options.skip, _sta_rn__lte=options.skip + top + 1)
    return sorted(fetch(qs.order_by()), key=lambda r: (str(r._sta_parent), r._sta_rn))


def _observations_of(datastreams, options: ReadOptions, top: int, ctx: Context) -> list[Any]:
    """PostgreSQL: each Datastream's Observations window read from its own store (as
    ``observations.of_datastream`` does for one), for all of them in one LATERAL join per
    store: a samples Datastream's rows come off the samples' (node, quantity, time) index
    in order, so "the latest Observation of every Thing" reads one row per Datastream."""
    wall = observations_wall(ctx.user)
    found: list[Any] = []
    for store, model in ((Store.SAMPLES, sta_models.SampleRow), (Store.OBSERVATIONS, None)):
        mine = [d for d in datastreams if d.store == store]
        if not mine:
            continue
        row_model: Any = model or sta_models.ObservationRow
        base = row_model.objects.annotate(_sta_parent=F("datastream_id"))
        if wall is not None:
            base = base.filter(wall)
        base = apply_query(base, OBSERVATIONS, options, ctx.user)
        terms = ordering(base)
        base = prepare(base, OBSERVATIONS, options.select, ctx.user)
        arrays: list[list[int]] = [[d.pk for d in mine]]
        if store == Store.SAMPLES:
            inner = base.filter(
                node_id=RawSQL("_sta_p.node", []),
                quantity_id=RawSQL("_sta_p.quantity", []),
                datastream_id=RawSQL("_sta_p.id", []),
            )
            arrays += [[d.node_id for d in mine], [d.quantity_id for d in mine]]
            columns = "id, node, quantity"
        else:
            inner = base.filter(node_id__isnull=True, datastream_id=RawSQL("_sta_p.id", []))
            columns = "id"
        ordered = inner.order_by(*terms)
        start, stop = options.skip, options.skip + top + 1
        if store == Store.SAMPLES:  # partition after partition when ordered by time
            sql, params = observations.window_sql(ordered, start, stop)
        else:
            sql, plain = ordered[start:stop].query.sql_with_params()
            params = list(plain)
        unnest = ", ".join(["%s::bigint[]"] * len(arrays))
        statement = (
            f"SELECT _sta_lat.* FROM unnest({unnest}) WITH ORDINALITY AS _sta_p({columns}, n) "
            f"CROSS JOIN LATERAL ({sql}) AS _sta_lat ORDER BY _sta_p.n"
        )
        found += raw_rows(row_model, statement, [*arrays, *params], base.db)
    return found


def _lateral(qs, parents, terms, skip: int, limit: int) -> list[Any]:
    """PostgreSQL: per parent, its first ``limit`` rows after ``skip`` through a LATERAL
    join, so each parent reads its own index range only (a window would number every
    row of every parent first)."""
    inner = qs.filter(_sta_parent=RawSQL("_sta_p.id", [])).order_by(*terms)
    sql, params = inner[skip : skip + limit].query.sql_with_params()
    statement = (
        "SELECT _sta_lat.* FROM unnest(%s::bigint[]) WITH ORDINALITY AS _sta_p(id, n) "
        f"CROSS JOIN LATERAL ({sql}) AS _sta_lat ORDER BY _sta_p.n"
    )
    return raw_rows(qs.model, statement, [list(parents), *params], qs.db)
