"""The functions of ``$filter`` (OGC 18-088 table 9.3.3.5) and the SQL they need.

- ``ARITY``: every function the parser accepts, with its number of arguments.
- ``JsonValue``: a typed value at a path in a JSON column, the same on SQLite and
  PostgreSQL: a number only where the JSON value is a number (so ``properties/floor eq 2``
  never matches ``"2"``, and a cast never fails), a string where it is a string or the
  text of a number (FROST: ``parameters/int eq '5'`` finds 5 and ``"5"``).
- ``JsonArrayHas``: ``9 in properties/list``; ``InIds``: a long id list as one parameter.
- ``FractionalSeconds``, ``RoundHalfUp``: the same answer on both databases.
- Geospatial functions: ``geometry_ids`` evaluates a predicate with shapely over the rows
  whose bounding box can match (the ``min_lon``… columns are indexed SQL), and returns the
  matching primary keys, which the filter then uses as ``pk IN (…)``. Same semantics on
  every database, no PostGIS; coordinates are planar degrees as in FROST on
  ``geometry`` columns (``geo.distance`` is in degrees).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.db import models
from django.db.models import Q

from sensorgrid.extras import MissingExtra, require
from sensorgrid.sensorthings.errors import StaError

ARITY: dict[str, tuple[int, int]] = {
    # strings
    "substringof": (2, 2),
    "endswith": (2, 2),
    "startswith": (2, 2),
    "length": (1, 1),
    "indexof": (2, 2),
    "substring": (2, 3),
    "tolower": (1, 1),
    "toupper": (1, 1),
    "trim": (1, 1),
    "concat": (2, 2),
    # date and time
    "year": (1, 1),
    "month": (1, 1),
    "day": (1, 1),
    "hour": (1, 1),
    "minute": (1, 1),
    "second": (1, 1),
    "fractionalseconds": (1, 1),
    "date": (1, 1),
    "time": (1, 1),
    "totaloffsetminutes": (1, 1),
    "now": (0, 0),
    "mindatetime": (0, 0),
    "maxdatetime": (0, 0),
    # temporal relations of instants and intervals (FROST-Server's extension)
    "before": (2, 2),
    "after": (2, 2),
    "meets": (2, 2),
    "during": (2, 2),
    "overlaps": (2, 2),
    "starts": (2, 2),
    "finishes": (2, 2),
    # math
    "round": (1, 1),
    "floor": (1, 1),
    "ceiling": (1, 1),
    # geospatial
    "geo.distance": (2, 2),
    "geo.length": (1, 1),
    "geo.intersects": (2, 2),
    "st_equals": (2, 2),
    "st_disjoint": (2, 2),
    "st_touches": (2, 2),
    "st_within": (2, 2),
    "st_overlaps": (2, 2),
    "st_crosses": (2, 2),
    "st_intersects": (2, 2),
    "st_contains": (2, 2),
    "st_relate": (3, 3),
}

GEO_PREDICATES = {
    "geo.intersects": "intersects",
    "st_equals": "equals",
    "st_disjoint": "disjoint",
    "st_touches": "touches",
    "st_within": "within",
    "st_overlaps": "overlaps",
    "st_crosses": "crosses",
    "st_intersects": "intersects",
    "st_contains": "contains",
}

_JSON_KINDS: dict[str, models.Field[Any, Any]] = {
    "number": models.FloatField(),
    "string": models.TextField(),
    "bool": models.BooleanField(),
    # two JSON values compared with each other: any scalar as its JSON text
    "scalar": models.TextField(),
}


def _sqlite_path(keys: tuple[str, ...]) -> str:
    """``("a", "list", "[1]")`` → ``$."a"."list"[1]`` (keys are names or ``[n]`` indexes)."""
    return "$" + "".join(k if k.startswith("[") else f'."{k}"' for k in keys)


def _pg_path(keys: tuple[str, ...]) -> list[str]:
    """``("a", "list", "[1]")`` → ``{a,list,1}`` for ``#>``."""
    return [k[1:-1] if k.startswith("[") else k for k in keys]


class JsonValue(models.Func):
    """The value at ``keys`` in a JSON column when it has JSON type ``kind``, else NULL:
    ``number`` reads JSON numbers, ``bool`` JSON booleans, ``string`` JSON strings and
    the text of JSON numbers (FROST: ``parameters/int eq '5'`` finds 5 and "5")."""

    def __init__(self, column: Any, keys: tuple[str, ...], kind: str) -> None:
        super().__init__(column, output_field=_JSON_KINDS[kind])
        self.keys = keys
        self.kind = kind

    def as_sql(self, compiler: Any, connection: Any, *args: Any, **extra: Any) -> Any:
        raise StaError(400, f"JSON paths are not supported on {connection.vendor}.")

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        column, params = compiler.compile(self.source_expressions[0])
        doc, doc_params = f"({column})::jsonb", list(params)
        if self.keys:
            doc, doc_params = f"(({column})::jsonb #> %s::text[])", [*params, _pg_path(self.keys)]
        jtypes, cast = {
            "number": ("'number'", "::double precision"),
            "string": ("'string', 'number'", ""),
            "bool": ("'boolean'", "::boolean"),
            "scalar": ("'string', 'number', 'boolean'", ""),
        }[self.kind]
        sql = f"CASE WHEN jsonb_typeof({doc}) IN ({jtypes}) THEN ({doc} #>> '{{}}'){cast} END"
        return sql, [*doc_params, *doc_params]

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        column, params = compiler.compile(self.source_expressions[0])
        path = _sqlite_path(self.keys)
        value = f"json_extract({column}, %s)"
        jtype = f"json_type({column}, %s)"
        both = [*params, path, *params, path]
        if self.kind == "string":
            sql = (
                f"CASE WHEN {jtype} = 'text' THEN {value} "
                f"WHEN {jtype} IN ('integer', 'real') THEN CAST({value} AS TEXT) END"
            )
            return sql, both + both
        if self.kind == "scalar":
            sql = (
                f"CASE WHEN {jtype} = 'text' THEN {value} "
                f"WHEN {jtype} IN ('integer', 'real') THEN CAST({value} AS TEXT) "
                f"WHEN {jtype} IN ('true', 'false') THEN {jtype} END"
            )
            return sql, both + both + both
        types = {"number": "'integer', 'real'", "bool": "'true', 'false'"}[self.kind]
        return f"CASE WHEN {jtype} IN ({types}) THEN {value} END", both


class JsonArrayHas(models.Func):
    """True where the JSON value at ``keys`` is an array holding ``value`` (a number, a
    string or a boolean, compared as that JSON type)."""

    output_field = models.BooleanField()
    conditional = True

    def __init__(self, column: Any, keys: tuple[str, ...], value: Any) -> None:
        super().__init__(column)
        self.keys = keys
        self.value = value

    def as_sql(self, compiler: Any, connection: Any, *args: Any, **extra: Any) -> Any:
        raise StaError(400, f"JSON paths are not supported on {connection.vendor}.")

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        column, params = compiler.compile(self.source_expressions[0])
        doc, doc_params = f"({column})::jsonb", list(params)
        if self.keys:
            doc, doc_params = f"(({column})::jsonb #> %s::text[])", [*params, _pg_path(self.keys)]
        sql = f"(jsonb_typeof({doc}) = 'array' AND {doc} @> %s::jsonb)"
        return sql, [*doc_params, *doc_params, json.dumps([self.value])]

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        column, params = compiler.compile(self.source_expressions[0])
        path = _sqlite_path(self.keys)
        if isinstance(self.value, bool):
            types, value = ("'true'" if self.value else "'false'"), None
        elif isinstance(self.value, int | float):
            types, value = "'integer', 'real'", self.value
        else:
            types, value = "'text'", self.value
        match = "" if value is None else " AND e.value = %s"
        sql = (
            f"(json_type({column}, %s) = 'array' AND EXISTS (SELECT 1 FROM "
            f"json_each({column}, %s) AS e WHERE e.type IN ({types}){match}))"
        )
        return sql, [*params, path, *params, path, *([] if value is None else [value])]


class JsonIsNull(models.Func):
    """True where the JSON column has nothing (or JSON null) at ``keys``."""

    output_field = models.BooleanField()
    conditional = True

    def __init__(self, column: Any, keys: tuple[str, ...]) -> None:
        super().__init__(column)
        self.keys = keys

    def as_sql(self, compiler: Any, connection: Any, *args: Any, **extra: Any) -> Any:
        raise StaError(400, f"JSON paths are not supported on {connection.vendor}.")

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        column, params = compiler.compile(self.source_expressions[0])
        doc, doc_params = f"({column})::jsonb", list(params)
        if self.keys:
            doc, doc_params = f"(({column})::jsonb #> %s::text[])", [*params, _pg_path(self.keys)]
        return f"({doc} IS NULL OR jsonb_typeof({doc}) = 'null')", [*doc_params, *doc_params]

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        column, params = compiler.compile(self.source_expressions[0])
        path = _sqlite_path(self.keys)
        sql = f"(json_type({column}, %s) IS NULL OR json_type({column}, %s) = 'null')"
        return sql, [*params, path, *params, path]


class FractionalSeconds(models.Func):
    """The fraction of the second of a date-time, 0 ≤ x < 1 (SQLite keeps milliseconds)."""

    output_field = models.FloatField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = compiler.compile(self.source_expressions[0])
        return (
            f"((EXTRACT(MICROSECONDS FROM {sql})::bigint %% 1000000) / 1000000.0)"
            "::double precision",
            params,
        )

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = compiler.compile(self.source_expressions[0])
        return (
            f"(CAST(strftime('%%f', {sql}) AS REAL) - CAST(strftime('%%S', {sql}) AS INTEGER))",
            [*params, *params],
        )


class Exact(models.Func):
    """A number for arithmetic: PostgreSQL's ``numeric`` (a double overflows with an error
    there, ``1e308 mul 10`` would be a 500), SQLite's REAL (which overflows to infinity)."""

    output_field = models.FloatField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = compiler.compile(self.source_expressions[0])
        return f"({sql})::numeric", params

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = compiler.compile(self.source_expressions[0])
        return f"CAST({sql} AS REAL)", params


class RoundHalfUp(models.Func):
    """round(): halves away from zero on both databases (PostgreSQL rounds a double's
    halves to even, a ``numeric``'s away from zero)."""

    output_field = models.FloatField()
    function = "ROUND"

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = compiler.compile(self.source_expressions[0])
        return f"ROUND(({sql})::numeric)", params


class InIds(models.Func):
    """``column IN ids`` with the ids as ONE parameter (a JSON array on SQLite, an array on
    PostgreSQL): a geospatial filter may match more rows than SQLite takes parameters."""

    output_field = models.BooleanField()
    conditional = True

    def __init__(self, column: Any, ids: list[int]) -> None:
        super().__init__(column)
        self.ids = [int(i) for i in ids]

    def as_sql(self, compiler: Any, connection: Any, *args: Any, **extra: Any) -> Any:
        sql, params = compiler.compile(self.source_expressions[0])
        if connection.vendor == "postgresql":
            return f"{sql} = ANY(%s::bigint[])", [*params, self.ids]
        return f"{sql} IN (SELECT value FROM json_each(%s))", [*params, json.dumps(self.ids)]


# -- geospatial ---------------------------------------------------------------------------


def shapely() -> Any:
    try:
        return require("shapely", "geo", "Geospatial $filter functions")
    except MissingExtra as exc:
        raise StaError(501, str(exc)) from None


#: A ``geography'…'`` literal is refused above these (each vertex is tested in Python
#: against every candidate row).
MAX_VERTICES = 10_000
MAX_WKT_LENGTH = 500_000


def literal_geometry(wkt: str) -> Any:
    """A ``geography'…'`` literal as a shapely geometry (400 when it is not WKT)."""
    lib = shapely()
    from shapely import wkt as shapely_wkt

    if len(wkt) > MAX_WKT_LENGTH:
        raise StaError(400, f"a geography'…' literal is longer than {MAX_WKT_LENGTH} characters.")
    try:
        geometry = shapely_wkt.loads(wkt)
    except Exception:  # shapely raises its own GEOSException subclasses
        raise StaError(400, f"geography'{_short(wkt)}' is not a WKT geometry.") from None
    if lib.get_num_coordinates(geometry) > MAX_VERTICES:
        raise StaError(400, f"a geography'…' literal has more than {MAX_VERTICES} vertices.")
    if geometry.is_empty or not lib.is_valid(geometry):
        raise StaError(400, f"geography'{_short(wkt)}' is empty or not a valid geometry.")
    return geometry


def _short(wkt: str) -> str:
    return wkt if len(wkt) <= 200 else wkt[:200] + "…"


def stored_geometry(value: Any) -> Any:
    """A stored GeoJSON geometry (or Feature) as a shapely geometry, None if it is none."""
    if not isinstance(value, dict):
        return None
    if value.get("type") == "Feature":
        value = value.get("geometry")
        if not isinstance(value, dict):
            return None
    shapely()
    from shapely.geometry import shape

    try:
        geometry = shape(value)
    except Exception:  # malformed GeoJSON: no geometry, matches nothing
        return None
    return None if geometry.is_empty else geometry


def geometry_ids(
    rows: models.QuerySet[Any],
    column: str,
    test: Callable[[Any], bool],
    *,
    bbox: tuple[float, float, float, float] | None,
    has_bbox: bool,
) -> list[Any]:
    """Primary keys of the ``rows`` whose geometry in ``column`` passes ``test``.

    ``rows``: the reader's visible rows (``walls.visible``), so that the test runs only
    on what the reader may see (and costs nothing for other organizations' rows).
    ``bbox`` (min lon, min lat, max lon, max lat): only rows whose bounding box meets it
    can pass (or whose bounding box is not filled in yet); ``None`` reads every row."""
    rows = rows.order_by()
    if bbox is not None and has_bbox:
        x0, y0, x1, y1 = bbox
        rows = rows.filter(
            Q(min_lon__isnull=True)
            | Q(min_lon__lte=x1, max_lon__gte=x0, min_lat__lte=y1, max_lat__gte=y0)
        )
    ids = []
    for pk, value in rows.values_list("pk", column).iterator(chunk_size=2000):
        geometry = stored_geometry(value)
        if geometry is not None and test(geometry):
            ids.append(pk)
    return ids
