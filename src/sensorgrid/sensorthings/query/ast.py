"""The parsed query options: plain, immutable dataclasses, no Django in them.

``parse.py`` builds them from the request's query string, ``translate.py`` turns them
into SQL for one entity set, read-core walks ``Options.expand`` and ``Options.select``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any


@dataclass(frozen=True, slots=True)
class Literal:
    """A constant: ``kind`` is one of ``string``, ``number``, ``bool``, ``null``,
    ``datetime`` (aware, UTC), ``date``, ``time``, ``duration`` (timedelta),
    ``interval`` (a (start, end) pair of datetimes), ``geography`` (WKT text) or
    ``list`` (a tuple of literals: the right side of ``x in (a, b, …)``, op ``in``)."""

    kind: str
    value: Any


@dataclass(frozen=True, slots=True)
class Path:
    """A property path: ``name``, ``Datastream/Thing/name``, ``properties/a/b``."""

    segments: tuple[str, ...]

    def __str__(self) -> str:
        return "/".join(self.segments)


@dataclass(frozen=True, slots=True)
class Call:
    """A function call; ``name`` lower-cased (``geo.distance``, ``st_within``)."""

    name: str
    args: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Lambda:
    """OData's lambda operators: ``Datastreams/any(d: d/name eq 'x')`` (``all``): some
    (every) entity the to-many path ``nav`` reaches passes ``cond``, where paths that
    start with ``var`` are that entity's and the others the outer entity's."""

    op: str  # "any" | "all"
    nav: Path
    var: str
    cond: Expr


@dataclass(frozen=True, slots=True)
class Not:
    operand: Expr


@dataclass(frozen=True, slots=True)
class BoolOp:
    op: str  # "and" | "or"
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Compare:
    op: str  # eq ne gt ge lt le, or "in": ``left`` is an element of the JSON array ``right``
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Arith:
    op: str  # add sub mul div mod
    left: Expr
    right: Expr


Expr = Literal | Path | Call | Not | BoolOp | Compare | Arith


@dataclass(frozen=True, slots=True)
class OrderKey:
    expr: Expr
    descending: bool = False


@dataclass(frozen=True, slots=True)
class ExpandItem:
    """One navigation to expand (``Datastreams``) with its own options; a path-style
    expand ``Thing/Datastreams`` is ``Thing`` whose options expand ``Datastreams``."""

    navigation: str
    options: Options


@dataclass(frozen=True, slots=True)
class Options:
    """What the query options of one request (or of one ``$expand`` item) ask for.

    ``top``: ``None`` when not given (the server's default applies). ``select``:
    ``None`` when not given (every property), else the selected property paths in
    request order (``("id",)``, ``("properties", "a")``). ``expand``: items in order.
    """

    top: int | None = None
    skip: int = 0
    count: bool = False
    filter: Expr | None = None
    orderby: tuple[OrderKey, ...] = ()
    select: tuple[Path, ...] | None = None
    expand: tuple[ExpandItem, ...] = field(default_factory=tuple)


def map_operands(expr: Expr, fn: Callable[[Expr], Expr]) -> Expr:
    """``expr`` with ``fn`` applied to each of its operands: a call's arguments, a
    negation's operand, both sides of a boolean, a comparison or arithmetic. A path, a
    literal or a lambda (its condition is relative to its own variable) comes back as it
    is: what a rewrite does with those is its own."""
    if isinstance(expr, Call):
        return replace(expr, args=tuple(fn(a) for a in expr.args))
    if isinstance(expr, Not):
        return Not(fn(expr.operand))
    if isinstance(expr, BoolOp | Compare | Arith):
        return replace(expr, left=fn(expr.left), right=fn(expr.right))
    return expr


def paths_of(expr: Expr | None) -> list[Path]:
    """Every property path an expression reads, left to right."""
    if expr is None or isinstance(expr, Literal):
        return []
    if isinstance(expr, Path):
        return [expr]
    if isinstance(expr, Call):
        return [p for a in expr.args for p in paths_of(a)]
    if isinstance(expr, Not):
        return paths_of(expr.operand)
    if isinstance(expr, Lambda):
        return []  # checked where it is translated: its paths are relative to its variable
    return paths_of(expr.left) + paths_of(expr.right)
