"""``ast`` → Django: ``$filter`` to a WHERE clause, ``$orderby`` to ORDER BY, per entity set.

- Paths follow ``schema.py``: to-one navigations become joins (``Datastream/Thing/name``
  → ``datastream__node__…``); a to-many navigation (``Things?$filter=Datastreams/name eq
  'x'``) becomes ``EXISTS (…)`` around the whole comparison, so a Thing matches when any
  of its Datastreams does and is listed once (FROST's semantics).
- A path below a JSON property (``properties/a/b``, ``parameters/x``,
  ``unitOfMeasurement/name``, ``properties/list[0]``) is typed by what it is compared
  with: a number literal reads only JSON numbers, a string JSON strings and the text of
  JSON numbers, a boolean JSON booleans (``functions.JsonValue``). ``x in (a, b)`` is
  one SQL ``IN (…)`` (``x eq a or x eq b`` when ``x`` is not a plain value or the items
  are not literals of one type); ``9 in properties/list`` looks into a JSON array.
- Walls: with ``apply(…, visible=…)`` every to-one hop of a path (``FeatureOfInterest/
  name``, ``Datastream/Thing/properties/a``) is ``<hop> IN (visible rows)``: a related
  entity the reader may not see decides no condition (an atom reading it is false, its
  negation true; ``eq null`` is true, as for a missing one) and orders as null; paths
  without a to-one hop add nothing to the SQL. Geospatial functions test only the
  reader's visible rows.
- Observations' ``result``: compared with a number it is the view's ``result_number``
  (indexed, samples' floats: ``result eq 21`` matches 21.0); with a string or boolean the
  JSON ``result``; ``result eq null`` is both empty.
- Time intervals (Observations' ``phenomenonTime``, ``validTime``; an instant has no end)
  compared as FROST-Server does, with intervals half-open [start, end) and an instant t
  as [t, t]: ``lt`` (``before``) A lies wholly before B (A's start before B's start, A's
  end at or before B's start), ``gt`` (``after``) the mirror, ``le`` A's start and end at
  or before B's, ``ge`` at or after them, ``eq`` the same start and end; ``meets`` A ends
  where B starts or starts where B ends, ``during`` A lies inside the interval B (400
  when B is an instant), ``overlaps`` they share a moment, ``starts``/``finishes`` the
  same start/end. ``add``/``sub`` of a duration shifts both ends; a time ``sub`` a time
  is a duration. The start column is the indexed one, so time ranges are index range
  scans.
- Geospatial functions: see ``functions.py`` (shapely over bounding-box candidates, then
  ``pk IN (…)``).
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any

from django.db import models
from django.db.models import Exists, ExpressionWrapper, F, Max, Min, OuterRef, Q, Subquery, Value
from django.db.models import functions as fn
from django.db.models import lookups as lk
from django.utils import timezone

from sensorgrid.sensorthings.errors import StaError
from sensorgrid.sensorthings.query import ast
from sensorgrid.sensorthings.query import functions as sf
from sensorgrid.sensorthings.schema import ENTITY_SETS, EntitySet, Navigation

UTC = dt.UTC

#: The rows of a set the requesting user may see (``walls.visible``), for the subqueries
#: of to-many paths: ``Things?$filter=Datastreams/Observations/result gt 3`` must not
#: find a Thing by an Observation its reader may not see. Set by ``apply(…, visible=…)``.
_VISIBLE: ContextVar[Callable[[EntitySet], models.QuerySet[Any]] | None] = ContextVar(
    "sta_visible", default=None
)

#: The Datastreams whose ``observedArea`` the reader may use (``apply(…, areas=…)``): it
#: sums up every Observation's feature, also those the reader may not see (a public
#: Datastream's Observations outside the public period, at a private site), so for
#: readers outside a Datastream's organization it is null, in $filter as in the answer.
_AREAS: ContextVar[frozenset[int] | None] = ContextVar("sta_areas", default=None)

#: Interval properties: set → STA property → (start column, end column).
INTERVALS: dict[str, dict[str, tuple[str, str]]] = {
    "Observations": {
        "phenomenonTime": ("phenomenon_time", "phenomenon_time_end"),
        "validTime": ("valid_time_start", "valid_time_end"),
    }
}

#: The entity sets of the queries enclosing a to-many subquery (``EXISTS``), outermost
#: first: a path ``("$scope<i>", …)`` is a property of the entity of scope i, read with
#: ``OuterRef`` (``HistoricalLocations/Locations/properties/field eq properties/field``,
#: ``Locations/any(l: l/name eq name)``).
_SCOPES: ContextVar[tuple[EntitySet, ...]] = ContextVar("sta_scopes", default=())
_SCOPE = "$scope"

#: Geometries with a length (geo.length).
_LINEAR = ("LineString", "LinearRing", "MultiLineString")

#: A Datastream's phenomenonTime and resultTime: spans of its Observations (the ones the
#: reader may see), as the read shows them; computed in a subquery where a $filter or an
#: $orderby names them. STA property → Observation column.
DATASTREAM_TIMES: dict[str, str] = {
    "phenomenonTime": "phenomenon_time",
    "resultTime": "result_time",
}

#: Geometry properties: set → STA property → whether the row has bounding-box columns.
GEOMETRIES: dict[str, dict[str, bool]] = {
    "Locations": {"location": True},
    "FeaturesOfInterest": {"feature": True},
    "Datastreams": {"observedArea": False},
}

_COMPARE: dict[str, type[lk.Lookup]] = {
    "eq": lk.Exact,
    "gt": lk.GreaterThan,
    "ge": lk.GreaterThanOrEqual,
    "lt": lk.LessThan,
    "le": lk.LessThanOrEqual,
}
_MIRROR = {"eq": "eq", "ne": "ne", "gt": "lt", "ge": "le", "lt": "gt", "le": "ge"}
_PY_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
}


# -- paths --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Prop:
    """A property reached from the queried set: ``owner`` has it, ``prefix`` is the ORM
    path of to-one joins to ``owner`` (``""`` or ``"datastream__node__"``)."""

    owner: EntitySet
    prefix: str
    name: str
    lookup: str
    keys: tuple[str, ...]
    #: how many subqueries out the property's entity is (0: the queried one's)
    outer: int = 0


@dataclass(frozen=True, slots=True)
class ManyHop:
    """A path that crosses a to-many navigation: ``prefix`` of to-one joins to ``owner``,
    then ``navigation``; ``depth`` segments up to and with the navigation."""

    owner: EntitySet
    prefix: str
    navigation: Navigation
    depth: int


def _field(model: type[models.Model], lookup: str) -> Any:
    field: Any = None
    for part in lookup.split("__"):
        field = model._meta.pk if part == "pk" else model._meta.get_field(part)
        if field.is_relation and field.related_model is not None:
            model = field.related_model
    return field


def walk(es: EntitySet, segments: tuple[str, ...]) -> Prop | ManyHop:
    """Follow ``segments`` from ``es`` to a property, or to the first to-many hop."""
    if segments and segments[0].startswith(_SCOPE):
        return _outer(segments)
    prefix = ""
    owner = es
    for i, segment in enumerate(segments):
        if segment in owner.navigations:
            nav = owner.navigations[segment]
            if nav.many:
                return ManyHop(owner, prefix, nav, i + 1)
            prefix += nav.lookup + "__"
            owner = ENTITY_SETS[nav.target]
            continue
        if segment in DATASTREAM_TIMES and owner.name == "Datastreams":
            if segments[i + 1 :]:
                raise StaError(400, f"Datastream/{segment} is a time: nothing is below it.")
            return Prop(owner, prefix, segment, DATASTREAM_TIMES[segment], ())
        if segment in owner.properties:
            lookup = owner.properties[segment]
            keys = segments[i + 1 :]
            if keys and not _is_json(owner, lookup):
                raise StaError(
                    400,
                    f"{owner.singular}/{segment} is not a JSON property: "
                    f"'{'/'.join(segments)}' cannot go below it.",
                )
            return Prop(owner, prefix, segment, lookup, tuple(keys))
        raise StaError(
            400,
            f"{owner.singular} has no property or navigation '{segment}' "
            f"(in '{'/'.join(segments)}').",
        )
    raise StaError(400, f"'{'/'.join(segments)}' is an entity, not a value.")


def _outer(segments: tuple[str, ...]) -> Prop:
    scopes = _SCOPES.get()
    index = int(segments[0][len(_SCOPE) :])
    target = walk(scopes[index], segments[1:])
    if not isinstance(target, Prop) or target.prefix:
        raise StaError(
            400,
            f"'{'/'.join(segments[1:])}': a condition on related entities compares them with "
            "the entity's own properties only, not with other related entities.",
        )
    return replace(target, outer=len(scopes) - index)


def _ref(name: str, outer: int) -> Any:
    """``F(name)``, or an ``OuterRef`` to the query ``outer`` subqueries out."""
    if not outer:
        return F(name)
    ref: Any = OuterRef(name)
    for _ in range(outer - 1):
        ref = OuterRef(ref)
    return ref


def _is_json(es: EntitySet, lookup: str) -> bool:
    if lookup in es.computed:
        return False
    return isinstance(_field(es.model, lookup), models.JSONField)


def check_paths(expr: ast.Expr | None, es: EntitySet, *, many: bool = True) -> None:
    """Every path of ``expr`` names a property of ``es`` (through navigations)."""
    for path in ast.paths_of(expr):
        _check_path(es, path.segments, many)


def _check_path(es: EntitySet, segments: tuple[str, ...], many: bool) -> None:
    target = walk(es, segments)
    if isinstance(target, ManyHop):
        if not many:
            raise StaError(
                400,
                f"'{'/'.join(segments)}' crosses the to-many navigation "
                f"{target.navigation.name}: it has no single value to order by.",
            )
        _check_path(ENTITY_SETS[target.navigation.target], segments[target.depth :], many)


def _hops(es: EntitySet, segments: tuple[str, ...]) -> list[tuple[str, EntitySet]]:
    """The to-one navigations ``segments`` cross before a property or a to-many hop:
    (ORM lookup from ``es``, the set it reaches)."""
    found: list[tuple[str, EntitySet]] = []
    prefix, owner = "", es
    for segment in segments:
        nav = owner.navigations.get(segment)
        if nav is None or nav.many:
            break
        prefix += nav.lookup
        owner = ENTITY_SETS[nav.target]
        found.append((prefix, owner))
        prefix += "__"
    return found


def _walls(node: ast.Expr | None, es: EntitySet) -> Q | None:
    """The condition that every related entity a to-one path of ``node`` reaches is one
    the reader may see (``None`` when no path crosses a to-one navigation, or nobody
    walls the query). A hidden related entity must not be an oracle: ``Observations?
    $filter=FeatureOfInterest/name eq 'x'`` compares only when the reader sees it."""
    visible = _VISIBLE.get()
    if visible is None:
        return None
    targets: dict[str, EntitySet] = {}
    for path in ast.paths_of(node):
        for lookup, target in _hops(es, path.segments):
            targets.setdefault(lookup, target)
    if not targets:
        return None
    return functools.reduce(
        operator.and_,
        (
            Q(**{f"{lookup}__in": visible(target).order_by().values("pk")})
            for lookup, target in targets.items()
        ),
    )


def _rows(es: EntitySet) -> models.QuerySet[Any]:
    """The rows of ``es`` the reader may see (every row for a trusted caller)."""
    visible = _VISIBLE.get()
    return visible(es) if visible is not None else es.model._default_manager.all()


def _geometry_rows(prop: Prop) -> models.QuerySet[Any]:
    """The rows whose geometry ``prop`` the reader may test (``_rows``; for observedArea
    only the Datastreams of the reader's organizations, ``_AREAS``)."""
    rows = _rows(prop.owner)
    areas = _AREAS.get()
    if prop.name == "observedArea" and areas is not None:
        rows = rows.filter(organization_id__in=areas)
    return rows


def _readable_area(t: Typed) -> Q | None:
    """Where ``t``, an observedArea, is the reader's to read (None: everywhere): elsewhere
    it compares and orders as null (``_AREAS``)."""
    areas, prop = _AREAS.get(), t.prop
    if areas is None or prop is None or prop.name != "observedArea":
        return None
    if prop.outer:
        raise StaError(400, "observedArea cannot be read from an enclosing lambda here.")
    return Q(**{f"{prop.prefix}organization_id__in": areas})


def rebase(expr: Any, prefix: str) -> Any:
    """``expr`` (an annotation of a set) as seen from a model ``prefix`` joins away."""
    if not prefix:
        return expr
    if isinstance(expr, F):
        return F(prefix + expr.name)
    if isinstance(expr, Q):
        q = Q()
        q.connector, q.negated = expr.connector, expr.negated
        q.children = [
            (prefix + c[0], rebase(c[1], prefix)) if isinstance(c, tuple) else rebase(c, prefix)
            for c in expr.children
        ]
        return q
    if hasattr(expr, "get_source_expressions"):
        copy = expr.copy()
        copy.set_source_expressions([rebase(e, prefix) for e in expr.get_source_expressions()])
        if hasattr(copy, "condition") and isinstance(getattr(expr, "condition", None), Q):
            copy.condition = rebase(expr.condition, prefix)
        return copy
    return expr


# -- typed values -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Typed:
    """A translated value: ``kind`` number, string, bool, datetime, date, time, duration,
    null, json, interval, geometry (``prop``), geography (a literal), pred (a condition)."""

    kind: str
    expr: Any = None
    nullable: bool = True
    #: json: the column, the keys below it, and the number column that stands for it.
    column: Any = None
    keys: tuple[str, ...] = ()
    number: Any = None
    #: number: computed in exact arithmetic (compare it in ``functions.Exact`` too).
    exact: bool = False
    #: interval: start and end expressions.
    end: Any = None
    #: geometry: the property; geography: the WKT.
    prop: Prop | None = None
    wkt: str = ""
    text: str = ""


_LITERAL_FIELDS: dict[str, Callable[[], models.Field[Any, Any]]] = {
    "string": models.TextField,
    "bool": models.BooleanField,
    "datetime": models.DateTimeField,
    "date": models.DateField,
    "time": models.TimeField,
    "duration": models.DurationField,
}


def _kind_of(field: Any) -> str:
    if isinstance(field, models.JSONField):
        return "json"
    if isinstance(field, models.BooleanField):
        return "bool"
    if isinstance(field, models.DateTimeField):
        return "datetime"
    if isinstance(field, models.DateField):
        return "date"
    if isinstance(field, models.TimeField):
        return "time"
    if isinstance(field, models.CharField | models.TextField):
        return "string"
    return "number"


def value(node: ast.Expr, es: EntitySet) -> Typed:
    """A value expression (no to-many navigation left in it)."""
    if isinstance(node, ast.Literal):
        return _literal(node)
    if isinstance(node, ast.Path):
        return _path_value(node, es)
    if isinstance(node, ast.Arith):
        return _arith(node, es)
    if isinstance(node, ast.Call):
        return _call(node, es)
    return Typed("pred", predicate(node, es))


def _literal(node: ast.Literal) -> Typed:
    text = _show(node)
    if node.kind == "null":
        return Typed("null", text=text)
    if node.kind == "interval":
        start, end = node.value
        return Typed(
            "interval",
            Value(start, models.DateTimeField()),
            end=Value(end, models.DateTimeField()),
            text=text,
        )
    if node.kind == "geography":
        return Typed("geography", wkt=node.value, text=text)
    if node.kind == "number":
        field: models.Field[Any, Any] = (
            models.BigIntegerField() if isinstance(node.value, int) else models.FloatField()
        )
        return Typed("number", Value(node.value, field), nullable=False, text=text)
    return Typed(
        node.kind, Value(node.value, _LITERAL_FIELDS[node.kind]()), nullable=False, text=text
    )


def _show(node: ast.Expr) -> str:
    if isinstance(node, ast.Literal):
        if node.kind == "string":
            return "'" + str(node.value).replace("'", "''") + "'"
        if node.kind in ("datetime", "interval"):
            return (
                "/".join(v.isoformat() for v in node.value)
                if node.kind == "interval"
                else (node.value.isoformat())
            )
        return {"null": "null", "bool": str(node.value).lower()}.get(node.kind, str(node.value))
    if isinstance(node, ast.Path):
        return str(node)
    if isinstance(node, ast.Call):
        return f"{node.name}(…)"
    return "the expression"


def _path_value(node: ast.Path, es: EntitySet) -> Typed:
    target = walk(es, node.segments)
    if isinstance(target, ManyHop):
        raise StaError(
            400,
            f"'{node}' crosses the to-many navigation {target.navigation.name}: "
            "it has many values here.",
        )
    text = str(node)
    owner, prefix, outer = target.owner, target.prefix, target.outer
    if owner.name == "Datastreams" and target.name in DATASTREAM_TIMES:
        if outer:
            raise StaError(400, f"{text} cannot be compared inside a related-entity condition.")
        return _datastream_time(target.name, prefix, text)
    if target.name in INTERVALS.get(owner.name, {}) and not target.keys:
        start, end = INTERVALS[owner.name][target.name]
        return Typed(
            "interval", _ref(prefix + start, outer), end=_ref(prefix + end, outer), text=text
        )
    if target.name in GEOMETRIES.get(owner.name, {}) and not target.keys:
        if outer:
            raise StaError(400, f"{text} cannot be compared inside a related-entity condition.")
        return Typed("geometry", F(prefix + target.lookup), prop=target, text=text)
    if target.lookup in owner.computed:
        if outer:  # the outer query carries the annotation
            return Typed(
                _computed_kind(owner, target.lookup), _ref(target.lookup, outer), text=text
            )
        expr = rebase(owner.computed[target.lookup], prefix)
        return Typed(_computed_kind(owner, target.lookup), expr, text=text)
    field = _field(owner.model, target.lookup)
    kind = _kind_of(field)
    column = _ref(prefix + target.lookup, outer)
    if kind == "json":
        number = None
        if owner.name == "Observations" and target.name == "result" and not target.keys:
            number = _ref(prefix + "result_number", outer)
        return Typed("json", column=column, keys=target.keys, number=number, text=text)
    nullable = bool(getattr(field, "null", True)) or bool(prefix)
    return Typed(kind, column, nullable=nullable, text=text)


def _datastream_time(name: str, prefix: str, text: str) -> Typed:
    """The span of the visible Observations' ``name`` of the Datastream at ``prefix``."""
    column = DATASTREAM_TIMES[name]
    rows = (
        _rows(ENTITY_SETS["Observations"])
        .filter(datastream_id=OuterRef(prefix + "pk"))
        .order_by()
        .values("datastream_id")
    )
    field: models.DateTimeField = models.DateTimeField()

    def one(aggregate: Any) -> Subquery:
        return Subquery(rows.annotate(v=aggregate).values("v")[:1], output_field=field)

    start = one(Min(column))
    if name == "phenomenonTime":
        ends = fn.Coalesce(Max("phenomenon_time_end"), Max(column), output_field=field)
        end = one(fn.Greatest(Max(column), ends, output_field=field))
    else:
        end = one(Max(column))
    return Typed("interval", start, end=end, text=text)


def _computed_kind(es: EntitySet, name: str) -> str:
    return _annotation_kind(es.name, name)


@functools.cache
def _annotation_kind(set_name: str, name: str) -> str:
    es = ENTITY_SETS[set_name]
    resolved = es.model._default_manager.annotate(**{name: es.computed[name]})
    return _kind_of(resolved.query.annotations[name].output_field)


def coerce(t: Typed, want: str) -> Any:
    """``t`` as an expression of kind ``want`` (400 when it has another type)."""
    if t.kind == want:
        return t.expr
    if t.kind == "json" and want in ("number", "string", "bool", "scalar"):
        if want == "number" and t.number is not None:
            return t.number
        return sf.JsonValue(t.column, t.keys, want)
    if t.kind == "interval" and want == "datetime":
        return t.expr
    if t.kind == "datetime" and want == "date":
        return fn.TruncDate(t.expr, tzinfo=UTC)
    raise StaError(400, f"{t.text or 'the expression'} is a {_name(t.kind)}, not a {want}.")


def _name(kind: str) -> str:
    return {
        "pred": "condition",
        "json": "JSON value",
        "geometry": "geometry",
        "geography": "geography literal",
        "interval": "time interval",
    }.get(kind, kind)


def _arith(node: ast.Arith, es: EntitySet) -> Typed:
    left, right = value(node.left, es), value(node.right, es)
    text = f"({left.text} {node.op} {right.text})"
    if left.kind in ("datetime", "interval") and right.kind in ("datetime", "interval"):
        if node.op != "sub":
            raise StaError(400, f"{text}: times are only subtracted (giving a duration).")
        lhs_t, rhs_t = _span(left)[0], _span(right)[0]
        return Typed(
            "duration",
            ExpressionWrapper(lhs_t - rhs_t, models.DurationField()),
            text=text,
        )
    if left.kind == "interval" and right.kind == "duration":
        if node.op not in ("add", "sub"):
            raise StaError(400, f"{text}: only add and sub take a duration.")
        start, end = _span(left)
        shift = operator.add if node.op == "add" else operator.sub
        if isinstance(start, Value) and isinstance(end, Value) and isinstance(right.expr, Value):
            try:
                a, b = shift(start.value, right.expr.value), shift(end.value, right.expr.value)
            except OverflowError:
                raise StaError(400, f"{text} is out of the range of dates.") from None
            field: models.DateTimeField = models.DateTimeField()
            return Typed("interval", Value(a, field), end=Value(b, field), text=text)
        return Typed(
            "interval",
            ExpressionWrapper(shift(start, right.expr), models.DateTimeField()),
            end=ExpressionWrapper(shift(end, right.expr), models.DateTimeField()),
            text=text,
        )
    if left.kind == "datetime" and right.kind == "duration":
        if node.op not in ("add", "sub"):
            raise StaError(400, f"{text}: only add and sub take a duration.")
        if isinstance(left.expr, Value) and isinstance(right.expr, Value):
            try:
                when = (
                    left.expr.value + right.expr.value
                    if node.op == "add"
                    else left.expr.value - right.expr.value
                )
            except OverflowError:
                raise StaError(400, f"{text} is out of the range of dates.") from None
            return Typed("datetime", Value(when, models.DateTimeField()), text=text)
        combined = left.expr + right.expr if node.op == "add" else left.expr - right.expr
        return Typed("datetime", ExpressionWrapper(combined, models.DateTimeField()), text=text)
    lhs = sf.Exact(coerce(_numeric(left), "number"))
    rhs = sf.Exact(coerce(_numeric(right), "number"))
    expr: Any
    if node.op == "add":
        expr = lhs + rhs
    elif node.op == "sub":
        expr = lhs - rhs
    elif node.op == "mul":
        expr = lhs * rhs
    elif node.op == "div":
        expr = lhs / fn.NullIf(rhs, Value(0.0))
    else:
        expr = fn.Mod(lhs, fn.NullIf(rhs, Value(0.0)), output_field=models.FloatField())
    return Typed("number", ExpressionWrapper(expr, models.FloatField()), exact=True, text=text)


def _numeric(t: Typed) -> Typed:
    if t.kind in ("number", "json"):
        return t
    raise StaError(400, f"{t.text} is a {_name(t.kind)}: arithmetic needs numbers.")


def _call(node: ast.Call, es: EntitySet) -> Typed:
    name = node.name
    text = f"{name}()"
    if name in sf.GEO_PREDICATES or name == "st_relate":
        return Typed("pred", _geo_predicate(node, es), text=text)
    if name in ("geo.distance", "geo.length"):
        raise StaError(400, f"{name}() can only be compared with a number (e.g. {name}(…) lt 0.1).")
    if name == "now":
        return Typed("datetime", Value(timezone.now(), models.DateTimeField()), text=text)
    if name in ("mindatetime", "maxdatetime"):
        when = (
            dt.datetime(1, 1, 1, tzinfo=UTC)
            if name == "mindatetime"
            else dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
        )
        return Typed("datetime", Value(when, models.DateTimeField()), text=text)
    args = [value(a, es) for a in node.args]
    if name in _TIME_RELATIONS:
        return Typed("pred", _temporal(name, args), text=text)

    def s(i: int) -> Any:
        return coerce(args[i], "string")

    def n(i: int) -> Any:
        return coerce(args[i], "number")

    def t(i: int) -> Any:
        return coerce(args[i], "datetime")

    integer: models.Field[Any, Any] = models.IntegerField()
    if name == "substringof":
        return Typed("pred", lk.GreaterThan(fn.StrIndex(s(1), s(0)), 0), text=text)
    if name == "startswith":
        return Typed("pred", lk.Exact(fn.Substr(s(0), 1, fn.Length(s(1))), s(1)), text=text)
    if name == "endswith":
        start = fn.Length(s(0)) - fn.Length(s(1)) + 1
        return Typed("pred", lk.Exact(fn.Substr(s(0), start), s(1)), text=text)
    if name == "length":
        return Typed("number", fn.Length(s(0)), text=text)
    if name == "indexof":
        return Typed("number", ExpressionWrapper(fn.StrIndex(s(0), s(1)) - 1, integer), text=text)

    def index(i: int) -> Any:
        # 0 ≤ i < 2^31, so that the cast to an integer never fails
        bounded = fn.Least(fn.Greatest(sf.Exact(n(i)), Value(0)), Value(2**31 - 2))
        return fn.Cast(bounded, integer)

    if name == "substring":
        start = index(1) + 1
        if len(args) == 3:
            length = index(2)
            return Typed("string", fn.Substr(s(0), start, length), text=text)
        return Typed("string", fn.Substr(s(0), start), text=text)
    if name == "tolower":
        return Typed("string", fn.Lower(s(0)), text=text)
    if name == "toupper":
        return Typed("string", fn.Upper(s(0)), text=text)
    if name == "trim":
        return Typed("string", fn.Trim(s(0)), text=text)
    if name == "concat":
        return Typed("string", fn.Concat(s(0), s(1), output_field=models.TextField()), text=text)
    if name in ("year", "month", "day") and args[0].kind == "date":
        return Typed("number", fn.Extract(args[0].expr, name), text=text)
    if name in ("year", "month", "day", "hour", "minute"):
        return Typed("number", fn.Extract(t(0), name, tzinfo=UTC), text=text)
    if name == "second":
        return Typed("number", fn.Floor(fn.Extract(t(0), "second", tzinfo=UTC)), text=text)
    if name == "fractionalseconds":
        return Typed("number", sf.FractionalSeconds(t(0)), text=text)
    if name == "date":
        return Typed("date", fn.TruncDate(t(0), tzinfo=UTC), text=text)
    if name == "time":
        return Typed("time", fn.TruncTime(t(0), tzinfo=UTC), text=text)
    if name == "totaloffsetminutes":
        # Every stored time is UTC.
        return Typed(
            "number",
            models.Case(models.When(Q(lk.IsNull(t(0), True)), then=None), default=Value(0)),
            text=text,
        )
    if name == "round":
        return Typed("number", sf.RoundHalfUp(sf.Exact(n(0))), exact=True, text=text)
    if name == "floor":
        return Typed("number", fn.Floor(sf.Exact(n(0))), exact=True, text=text)
    if name == "ceiling":
        return Typed("number", fn.Ceil(sf.Exact(n(0))), exact=True, text=text)
    raise StaError(400, f"function {name}() is not supported here.")  # pragma: no cover


# -- geospatial ---------------------------------------------------------------------------


def _geo_operands(node: ast.Call, es: EntitySet) -> tuple[Typed, Any, bool]:
    """(the geometry property, the literal as shapely, whether the literal came first)."""
    a, b = value(node.args[0], es), value(node.args[1], es)
    if a.kind == "geometry" and b.kind == "geography":
        return a, sf.literal_geometry(b.wkt), False
    if a.kind == "geography" and b.kind == "geometry":
        return b, sf.literal_geometry(a.wkt), True
    raise StaError(
        400,
        f"{node.name}() compares a geometry property (location, feature, observedArea) "
        "with a geography'…' literal.",
    )


def _ids_q(prop: Prop, ids: list[Any]) -> Q:
    return Q(sf.InIds(F(f"{prop.prefix}pk"), ids))


def _geo_predicate(node: ast.Call, es: EntitySet) -> Q:
    prop_t, literal, swapped = _geo_operands(node, es)
    prop = prop_t.prop
    assert prop is not None
    has_bbox = GEOMETRIES[prop.owner.name][prop.name]
    if node.name == "st_relate":
        pattern = node.args[2]
        if not (isinstance(pattern, ast.Literal) and pattern.kind == "string"):
            raise StaError(400, "st_relate()'s third argument is a DE-9IM pattern string.")
        matrix = str(pattern.value)
        if len(matrix) != 9 or any(c not in "TF*012" for c in matrix.upper()):
            raise StaError(400, f"st_relate(): '{matrix}' is not a DE-9IM pattern.")

        def test(g: Any) -> bool:
            first, second = (literal, g) if swapped else (g, literal)
            return bool(first.relate_pattern(second, matrix.upper()))

        ids = sf.geometry_ids(_geometry_rows(prop), prop.lookup, test, bbox=None, has_bbox=has_bbox)
        return _ids_q(prop, ids)
    method = sf.GEO_PREDICATES[node.name]
    if method == "disjoint":
        # disjoint = not intersecting (rows without a geometry are neither).
        ids = sf.geometry_ids(
            _geometry_rows(prop), prop.lookup, lambda g: True, bbox=None, has_bbox=has_bbox
        )
        hit = sf.geometry_ids(
            _geometry_rows(prop),
            prop.lookup,
            lambda g: bool(g.intersects(literal)),
            bbox=literal.bounds,
            has_bbox=has_bbox,
        )
        return _ids_q(prop, sorted(set(ids) - set(hit)))
    if swapped and method in ("within", "contains"):
        method = "contains" if method == "within" else "within"

    def passes(g: Any) -> bool:
        return bool(getattr(g, method)(literal))

    ids = sf.geometry_ids(
        _geometry_rows(prop), prop.lookup, passes, bbox=literal.bounds, has_bbox=has_bbox
    )
    return _ids_q(prop, ids)


def _geo_measure(node: ast.Call, op: str, limit: float, es: EntitySet) -> Q:
    compare = _PY_COMPARE[op]
    if node.name == "geo.length":
        prop_t = value(node.args[0], es)
        if prop_t.kind != "geometry" or prop_t.prop is None:
            raise StaError(400, "geo.length() takes a geometry property.")
        prop = prop_t.prop
        ids = sf.geometry_ids(
            _geometry_rows(prop),
            prop.lookup,
            # a line's length; an area or a point has none (0), as PostGIS ST_Length
            lambda g: compare(g.length if g.geom_type in _LINEAR else 0.0, limit),
            bbox=None,
            has_bbox=False,
        )
        return _ids_q(prop, ids)
    prop_t, literal, _ = _geo_operands(node, es)
    measured = prop_t.prop
    assert measured is not None
    bbox = None
    if op in ("lt", "le", "eq"):
        x0, y0, x1, y1 = literal.bounds
        bbox = (x0 - limit, y0 - limit, x1 + limit, y1 + limit)
    ids = sf.geometry_ids(
        _geometry_rows(measured),
        measured.lookup,
        lambda g: compare(g.distance(literal), limit),
        bbox=bbox,
        has_bbox=GEOMETRIES[measured.owner.name][measured.name],
    )
    return _ids_q(measured, ids)


# -- conditions ---------------------------------------------------------------------------


def predicate(node: ast.Expr, es: EntitySet) -> Q:
    """``node`` as a condition on ``es``'s model."""
    if isinstance(node, ast.BoolOp):
        left, right = predicate(node.left, es), predicate(node.right, es)
        return left & right if node.op == "and" else left | right
    if isinstance(node, ast.Not):
        return ~predicate(node.operand, es)
    if isinstance(node, ast.Lambda):
        return _lambda(node, es)
    hop = _many_hop(node, es)
    if hop is not None:
        return _exists(node, es, hop)
    return _atom(node, es)


def _many_hop(node: ast.Expr, es: EntitySet) -> tuple[ManyHop, tuple[str, ...]] | None:
    """The to-many navigation the condition's paths cross (all must cross the same one)."""
    found: tuple[ManyHop, tuple[str, ...]] | None = None
    for path in ast.paths_of(node):
        target = walk(es, path.segments)
        if isinstance(target, Prop):
            continue
        key = path.segments[: target.depth]
        if found is not None and found[1] != key:
            raise StaError(
                400,
                f"one condition crosses two to-many navigations ({'/'.join(found[1])} "
                f"and {'/'.join(key)}); compare each with a literal.",
            )
        found = (target, key)
    return found


def _strip(node: ast.Expr, depth: int) -> ast.Expr:
    if isinstance(node, ast.Path):
        if node.segments[0].startswith(_SCOPE):
            return node
        return ast.Path(node.segments[depth:])
    if isinstance(node, ast.Lambda):  # its condition is relative to its variable
        return replace(node, nav=_strip(node.nav, depth))
    return ast.map_operands(node, lambda operand: _strip(operand, depth))


def _mark_outer(node: ast.Expr, es: EntitySet, marker: str) -> ast.Expr:
    """``node`` with the paths that stay on ``es`` (no to-many hop) marked as the outer
    entity's, for the subquery over the related entities."""
    if isinstance(node, ast.Path):
        if node.segments[0].startswith(_SCOPE) or not isinstance(walk(es, node.segments), Prop):
            return node
        return ast.Path((marker, *node.segments))
    return ast.map_operands(node, lambda operand: _mark_outer(operand, es, marker))


def _bind(node: ast.Expr, var: str, nav: tuple[str, ...], marker: str) -> ast.Expr:
    """A lambda's condition as a condition on its outer entity: ``var/x`` → ``nav/x``,
    the other paths the outer entity's (``marker``)."""
    if isinstance(node, ast.Path):
        if node.segments[0] == var:
            return ast.Path((*nav, *node.segments[1:]))
        if node.segments[0].startswith(_SCOPE):
            return node
        return ast.Path((marker, *node.segments))
    if isinstance(node, ast.Lambda):
        if node.nav.segments[0] != var:
            raise StaError(400, f"{node.op}(): '{node.nav}' does not start with '{var}/'.")
        inner = node.cond
        if node.var != var:
            inner = _bind_outer(inner, node.var, var, marker)
        return replace(node, nav=_bind(node.nav, var, nav, marker), cond=inner)
    return ast.map_operands(node, lambda operand: _bind(operand, var, nav, marker))


def _bind_outer(node: ast.Expr, own: str, var: str, marker: str) -> ast.Expr:
    """In a nested lambda's condition (variable ``own``): the outermost entity's paths
    marked; a path on the enclosing lambda's variable ``var`` is refused."""
    if isinstance(node, ast.Path):
        first = node.segments[0]
        if first == own or first.startswith(_SCOPE):
            return node
        if first == var:
            raise StaError(
                400, f"'{node}': a nested lambda reads its own variable and the outer entity only."
            )
        return ast.Path((marker, *node.segments))
    if isinstance(node, ast.Lambda):
        return replace(
            node,
            nav=_bind_outer(node.nav, own, var, marker),
            cond=_bind_outer(node.cond, node.var, var, marker) if node.var != own else node.cond,
        )
    return ast.map_operands(node, lambda operand: _bind_outer(operand, own, var, marker))


def _lambda(node: ast.Lambda, es: EntitySet) -> Q:
    """``nav/any(v: cond)``: EXISTS a related entity passing cond; ``all``: none fails it."""
    target = walk(es, node.nav.segments)
    if not isinstance(target, ManyHop) or target.depth != len(node.nav.segments):
        raise StaError(400, f"{node.op}() needs a to-many navigation, not '{node.nav}'.")
    marker = f"{_SCOPE}{len(_SCOPES.get())}"
    cond = _bind(node.cond, node.var, node.nav.segments, marker)
    found = (target, node.nav.segments)
    if node.op == "any":
        return _exists(cond, es, found)
    return ~_exists(ast.Not(cond), es, found)


def _exists(node: ast.Expr, es: EntitySet, found: tuple[ManyHop, tuple[str, ...]]) -> Q:
    hop, key = found
    target = ENTITY_SETS[hop.navigation.target]
    relation = _field(hop.owner.model, hop.navigation.lookup)
    if relation.auto_created and not relation.concrete:
        back = relation.field.name  # the target's field pointing at the owner
    else:
        back = relation.related_query_name()
    outer = OuterRef(hop.prefix[:-2] if hop.prefix else "pk")
    scopes = _SCOPES.get()
    node = _mark_outer(node, es, f"{_SCOPE}{len(scopes)}")
    token = _SCOPES.set((*scopes, es))
    try:
        inner = _rows(target).filter(predicate(_strip(node, len(key)), target), **{back: outer})
    finally:
        _SCOPES.reset(token)
    q = Q(Exists(inner))
    if isinstance(node, ast.Compare) and node.op == "eq" and _null(node.left, node.right):
        # as FROST's join: an entity without related entities has a null there
        q |= ~Q(Exists(_rows(target).filter(**{back: outer})))
    # The to-one hops before the to-many one must be visible too: through a hidden
    # FeatureOfInterest (``FeatureOfInterest/Observations/…``) a reader would learn that
    # it exists and which visible Observations share it.
    walls = _walls(ast.Path(key), es)
    return q if walls is None else walls & q


def _atom(node: ast.Expr, es: EntitySet) -> Q:
    walls = _walls(node, es)
    q = _bare_atom(node, es)
    if walls is None:
        return q
    if isinstance(node, ast.Compare) and node.op == "eq" and _null(node.right, node.left):
        return ~walls | q  # a hidden related entity is a missing one: its path is null
    # A hidden related entity decides nothing: the condition is false for its row (and
    # its negation true), whatever the entity holds.
    return walls & q


def _null(*nodes: ast.Expr) -> bool:
    return any(isinstance(n, ast.Literal) and n.kind == "null" for n in nodes)


def _bare_atom(node: ast.Expr, es: EntitySet) -> Q:
    if isinstance(node, ast.Compare):
        return _compare(node, es)
    t = value(node, es)
    if t.kind == "pred":
        return t.expr if isinstance(t.expr, Q) else Q(t.expr)
    if t.kind == "bool":
        return Q(lk.Exact(t.expr, True))
    if t.kind == "json":
        return Q(lk.Exact(coerce(t, "bool"), True))
    raise StaError(400, f"$filter needs a condition; {t.text or 'this'} is a {_name(t.kind)}.")


def _compare(node: ast.Compare, es: EntitySet) -> Q:
    op, left_node, right_node = node.op, node.left, node.right
    if op == "in" and isinstance(right_node, ast.Literal) and right_node.kind == "list":
        return _in_list(left_node, right_node.value, es)
    if op == "in":
        return _array_has(left_node, right_node, es)
    # geo.distance(…) lt 0.1: evaluated on the geometries.
    for call, other, cmp in ((left_node, right_node, op), (right_node, left_node, _MIRROR[op])):
        if isinstance(call, ast.Call) and call.name in ("geo.distance", "geo.length"):
            if not (isinstance(other, ast.Literal) and other.kind == "number"):
                raise StaError(400, f"{call.name}() can only be compared with a number literal.")
            return _geo_measure(call, cmp, float(other.value), es)
    left, right = value(left_node, es), value(right_node, es)
    if left.kind == "null" or right.kind == "null":
        return _compare_null(op, right if left.kind == "null" else left)
    if left.kind == "pred" or right.kind == "pred":
        return _compare_conditions(op, left, right)
    if left.kind == "interval" or right.kind == "interval":
        return _compare_times(op, left, right)
    kind = _common_kind(left, right)
    lhs, rhs = coerce(left, kind), coerce(right, kind)
    if kind == "number" and (left.exact or right.exact):
        lhs, rhs = sf.Exact(lhs), sf.Exact(rhs)
    if op == "ne":
        return ~Q(lk.Exact(lhs, rhs))
    return Q(_COMPARE[op](lhs, rhs))


def _in_list(left_node: ast.Expr, items: tuple[ast.Literal, ...], es: EntitySet) -> Q:
    """``x in (a, b, …)``: one SQL ``IN (…)`` when ``x`` is a plain value and the literals
    have its type; else ``x eq a or x eq b …``."""
    left = value(left_node, es)
    typed = [_literal(item) for item in items]
    kinds = {t.kind for t in typed}
    if (
        len(kinds) == 1
        and left.kind in ("number", "string", "bool", "datetime", "date", "time", "json")
        and not left.exact
        and kinds <= {"number", "string", "bool", "datetime", "date", "time"}
    ):
        kind = _common_kind(left, typed[0])
        if kind == typed[0].kind:
            values = [item.value for item in items]
            return Q(lk.In(coerce(left, kind), values))
    return functools.reduce(
        operator.or_, (_compare(ast.Compare("eq", left_node, item), es) for item in items)
    )


def _array_has(element: ast.Expr, array: ast.Expr, es: EntitySet) -> Q:
    """``9 in properties/list``: the JSON array at the path holds the literal."""
    target = value(array, es)
    if target.kind != "json":
        raise StaError(400, f"'in' needs a JSON array property on its right, not {target.text}.")
    if not (isinstance(element, ast.Literal) and element.kind in ("number", "string", "bool")):
        raise StaError(400, "'in' looks for a number, string or boolean literal in an array.")
    return Q(sf.JsonArrayHas(target.column, target.keys, element.value))


def _common_kind(left: Typed, right: Typed) -> str:
    if left.kind == "json" and right.kind == "json":
        return "scalar"  # FROST compares two JSON values as their text: true eq "true"
    if left.kind == "json":
        return _json_kind(right)
    if right.kind == "json":
        return _json_kind(left)
    if {left.kind, right.kind} == {"datetime", "date"}:
        return "date"
    if left.kind != right.kind:
        raise StaError(
            400,
            f"cannot compare {left.text} ({_name(left.kind)}) with "
            f"{right.text} ({_name(right.kind)}).",
        )
    if left.kind in ("geometry", "geography"):
        raise StaError(400, "geometries are compared with the st_… and geo.… functions.")
    return left.kind


def _json_kind(other: Typed) -> str:
    if other.kind in ("number", "string", "bool"):
        return other.kind
    raise StaError(400, f"a JSON value cannot be compared with {other.text} ({other.kind}).")


def _compare_null(op: str, t: Typed) -> Q:
    if op not in ("eq", "ne"):
        raise StaError(400, f"null is compared with eq or ne only, not {op}.")
    if t.kind == "json":
        q = Q(sf.JsonIsNull(t.column, t.keys))
        if t.number is not None:
            q &= Q(lk.IsNull(t.number, True))
    elif t.kind in ("pred", "geography", "null"):
        raise StaError(400, f"{t.text} is never null.")
    else:
        q = Q(lk.IsNull(t.expr, True))
        readable = _readable_area(t) if t.kind == "geometry" else None
        if readable is not None:
            q |= ~readable
    return q if op == "eq" else ~q


def _compare_conditions(op: str, left: Typed, right: Typed) -> Q:
    pred, other = (left, right) if left.kind == "pred" else (right, left)
    if op not in ("eq", "ne") or other.kind not in ("bool", "pred"):
        raise StaError(400, "a condition is compared with true or false (eq, ne) only.")
    p = pred.expr if isinstance(pred.expr, Q) else Q(pred.expr)
    if other.kind == "pred":
        o = other.expr if isinstance(other.expr, Q) else Q(other.expr)
        same = (p & o) | (~p & ~o)
        return same if op == "eq" else ~same
    wanted = other.expr.value if isinstance(other.expr, Value) else True
    return p if (op == "eq") == bool(wanted) else ~p


def _span(t: Typed) -> tuple[Any, Any]:
    """The start and end of a time: an interval's, or an instant's twice. A stored
    interval property's instants (no end) end where they start."""
    if t.kind == "interval":
        if isinstance(t.expr, Value) or t.end is None:
            return t.expr, t.end if t.end is not None else t.expr
        return t.expr, fn.Coalesce(t.end, t.expr)
    if t.kind != "datetime":
        raise StaError(400, f"{t.text or 'the expression'} is a {_name(t.kind)}, not a time.")
    return t.expr, t.expr


def _column_first(lookup: type[lk.Lookup], mirrored: type[lk.Lookup], a: Any, b: Any) -> Q:
    # ``column op value``, as the indexes are read (``t <= column`` reads the same)
    if isinstance(a, Value) and not isinstance(b, Value):
        return Q(mirrored(b, a))
    return Q(lookup(a, b))


def _lt(a: Any, b: Any) -> Q:
    return _column_first(lk.LessThan, lk.GreaterThan, a, b)


def _le(a: Any, b: Any) -> Q:
    return _column_first(lk.LessThanOrEqual, lk.GreaterThanOrEqual, a, b)


def _is(a: Any, b: Any) -> Q:
    return _column_first(lk.Exact, lk.Exact, a, b)


def _both(first: Q, second: Q | None) -> Q:
    return first if second is None else first & second


#: Relations of A = [as, ae) and B = [bs, be) (an instant t is [t, t]), as FROST-Server's
#: DateTimeTests expect them.
_TIME_RELATIONS: dict[str, Callable[[Any, Any, Any, Any], Q]] = {
    # (a second condition implied by the first for an instant is left out)
    "lt": lambda as_, ae, bs, be: _both(_lt(as_, bs), None if ae is as_ else _le(ae, bs)),
    "gt": lambda as_, ae, bs, be: _both(_lt(bs, as_), None if be is bs else _le(be, as_)),
    "le": lambda as_, ae, bs, be: _both(_le(ae, be), None if bs is be else _le(as_, bs)),
    "ge": lambda as_, ae, bs, be: _both(_le(bs, as_), None if bs is be else _le(be, ae)),
    "eq": lambda as_, ae, bs, be: _is(as_, bs) & _is(ae, be),
    "meets": lambda as_, ae, bs, be: _is(ae, bs) | _is(as_, be),
    "during": lambda as_, ae, bs, be: _le(bs, as_) & _le(ae, be) & _lt(as_, be),
    # they share a moment: not merely touching where a real interval ends
    "overlaps": lambda as_, ae, bs, be: (
        _le(as_, be)
        & _le(bs, ae)
        & (_lt(ae, bs) | _lt(bs, ae) | _le(ae, as_))
        & (_lt(be, as_) | _lt(as_, be) | _le(be, bs))
    ),
    "starts": lambda as_, ae, bs, be: _is(as_, bs),
    "finishes": lambda as_, ae, bs, be: _is(ae, be),
}
_TIME_RELATIONS["before"] = _TIME_RELATIONS["lt"]
_TIME_RELATIONS["after"] = _TIME_RELATIONS["gt"]


def _compare_times(op: str, left: Typed, right: Typed) -> Q:
    """``left op right`` where either is a time interval (or a temporal function)."""
    if op == "ne":
        return ~_compare_times("eq", left, right)
    (as_, ae), (bs, be) = _span(left), _span(right)
    return _TIME_RELATIONS[op](as_, ae, bs, be)


def _temporal(name: str, args: list[Typed]) -> Q:
    if name == "during" and args[1].kind != "interval":
        raise StaError(
            400,
            f"during(): {args[1].text or 'the second argument'} is an instant, not an interval.",
        )
    return _compare_times(name, args[0], args[1])


# -- ordering -----------------------------------------------------------------------------


def order_by(keys: tuple[ast.OrderKey, ...], es: EntitySet) -> list[Any]:
    """ORDER BY terms for ``$orderby``, then the primary key (stable pages)."""
    terms: list[Any] = []
    for key in keys:
        check_paths(key.expr, es, many=False)
        t = value(key.expr, es)
        if not ast.paths_of(key.expr) and t.kind not in ("pred", "geography"):
            continue  # a constant orders nothing (and PostgreSQL refuses one)
        if t.kind == "json":
            exprs = (
                [coerce(t, "number"), coerce(t, "string")]
                if t.number is None
                else [
                    t.number,
                    sf.JsonValue(t.column, t.keys, "number"),
                    sf.JsonValue(t.column, t.keys, "string"),
                ]
            )
            nullable = True
        elif t.kind == "geometry":
            # no order of geometries; the GeoJSON's text gives a stable one (the OGC
            # suite orders by every property: 400 would fail it)
            exprs, nullable = [fn.Cast(t.expr, models.TextField())], True
            readable = _readable_area(t)
            if readable is not None:
                if not _AREAS.get():
                    continue  # null in every row the reader sees: it orders nothing
                exprs = [models.Case(models.When(readable, then=exprs[0]), default=Value(None))]
        elif t.kind in ("pred", "null", "geography"):
            raise StaError(400, f"$orderby cannot order by {t.text or 'a condition'}.")
        else:
            exprs, nullable = [t.expr], t.nullable
        walls = _walls(key.expr, es)
        if walls is not None:
            # a related entity the reader may not see orders as a missing one (null)
            exprs = [models.Case(models.When(walls, then=e), default=Value(None)) for e in exprs]
            nullable = True
        for expr in exprs:
            # Nulls sort as the largest value (PostgreSQL's default, so its indexes serve
            # both directions), on every database.
            if not nullable:
                terms.append(expr.desc() if key.descending else expr.asc())
            elif key.descending:
                terms.append(expr.desc(nulls_first=True))
            else:
                terms.append(expr.asc(nulls_last=True))
    terms.append(F("pk").desc() if keys and keys[-1].descending else F("pk").asc())
    return terms


def apply(
    queryset: models.QuerySet[Any],
    es: EntitySet,
    options: ast.Options,
    *,
    visible: Callable[[EntitySet], models.QuerySet[Any]] | None = None,
    areas: frozenset[int] | None = None,
) -> Any:
    """``queryset`` filtered by ``options.filter`` and ordered by ``options.orderby``
    (always ending with the primary key).

    ``visible(entity_set)``: the rows the reader may see (``lambda s: walls.visible(s,
    user)``); a path of ``$filter`` or ``$orderby`` through a navigation then sees only
    those (a hidden related entity compares and orders as a missing one), and so do the
    geospatial functions. Without it, every row counts (for trusted callers).
    ``areas``: the organizations whose Datastreams' observedArea the reader may read
    (``_AREAS``; None: all); elsewhere it is null to $filter and $orderby."""
    token, areas_token = _VISIBLE.set(visible), _AREAS.set(areas)
    try:
        if options.filter is not None:
            queryset = queryset.filter(predicate(options.filter, es))
        return queryset.order_by(*order_by(options.orderby, es))
    finally:
        _VISIBLE.reset(token)
        _AREAS.reset(areas_token)


def filter_q(
    expr: ast.Expr,
    es: EntitySet,
    *,
    visible: Callable[[EntitySet], models.QuerySet[Any]] | None = None,
) -> Q:
    """``$filter`` as a condition on ``es``'s model (``visible`` as for ``apply``)."""
    token = _VISIBLE.set(visible)
    try:
        return predicate(expr, es)
    finally:
        _VISIBLE.reset(token)


def validate(options: ast.Options, es: EntitySet) -> None:
    """Every name in ``options`` (and its nested ``$expand`` options) exists in ``es``."""
    check_paths(options.filter, es)
    for key in options.orderby:
        check_paths(key.expr, es, many=False)
    for path in options.select or ():
        head = path.segments[0]
        if head in es.navigations and len(path.segments) == 1:
            continue
        if head in es.properties:
            if len(path.segments) > 1 and not _is_json(es, es.properties[head]):
                raise StaError(400, f"$select: {es.singular}/{head} is not a JSON property.")
            continue
        raise StaError(400, f"$select: {es.singular} has no property '{head}'.")
    for item in options.expand:
        nav = es.navigations.get(item.navigation)
        if nav is None:
            raise StaError(
                400, f"$expand: {es.singular} has no navigation property '{item.navigation}'."
            )
        validate(item.options, ENTITY_SETS[nav.target])
