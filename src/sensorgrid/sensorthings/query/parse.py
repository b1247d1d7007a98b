"""The grammar of the query options ($filter, $orderby, $select, $expand) → ``ast``.

One LALR grammar (lark) with a start rule per option; ``$expand``'s nested options
(``Datastreams($filter=…;$expand=Observations($top=1))``) reuse the same rules, so a
nested ``$filter`` is parsed exactly like a top-level one. Every syntax error becomes
``StaError(400)`` naming the option, the position and what was found.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput

from sensorgrid.sensorthings.errors import StaError
from sensorgrid.sensorthings.query import ast
from sensorgrid.sensorthings.query.functions import ARITY

GRAMMAR = r"""
start_filter: expr
start_orderby: orderby
start_select: select
start_expand: expand

?expr: expr OR andexpr          -> or_
     | andexpr
?andexpr: andexpr AND notexpr   -> and_
        | notexpr
?notexpr: NOT notexpr           -> not_
        | cmpexpr
?cmpexpr: addexpr CMP addexpr   -> compare
        | addexpr IN "(" expr ("," expr)+ ")" -> in_list
        | addexpr IN addexpr    -> in_
        | addexpr
?addexpr: addexpr ADDOP mulexpr -> arith
        | mulexpr
?mulexpr: mulexpr MULOP primary -> arith
        | primary
?primary: literal
        | path
        | call
        | "(" expr ")"

call: FUNC "(" [expr ("," expr)*] ")"
path: segment ("/" segment)* ["/" FUNC "(" NAME ":" expr ")"]
segment: (NAME | IOTID) INDEX*

literal: STRING      -> string
       | NUMBER      -> number
       | TRUE        -> true
       | FALSE       -> false
       | NULL        -> null
       | DATETIME "/" DATETIME -> interval
       | DATETIME    -> datetime
       | DATE        -> date
       | TIME        -> time
       | DURATION    -> duration
       | GEOGRAPHY   -> geography

orderby: orderitem ("," orderitem)*
orderitem: expr [DIR]

select: path ("," path)*

expand: expitem ("," expitem)*
expitem: NAME ("/" NAME)* ["(" [expopt (";" expopt)*] ")"]
expopt: "$filter"i "=" expr       -> opt_filter
      | "$orderby"i "=" orderby   -> opt_orderby
      | "$select"i "=" select     -> opt_select
      | "$expand"i "=" expand     -> opt_expand
      | "$top"i "=" INT           -> opt_top
      | "$skip"i "=" INT          -> opt_skip
      | "$count"i "=" BOOLWORD    -> opt_count

OR.3: /or\b/i
AND.3: /and\b/i
NOT.3: /not\b/i
CMP.3: /(eq|ne|gt|ge|lt|le)\b/i
IN.3: /in\b/i
ADDOP.3: /(add|sub)\b/i
MULOP.3: /(mul|div|mod)\b/i
DIR.3: /(asc|desc)\b/i
TRUE.3: /true\b/i
FALSE.3: /false\b/i
NULL.3: /null\b/i
BOOLWORD.3: /(true|false)\b/i
FUNC.4: /(?!(and|or|not|in|eq|ne|gt|ge|lt|le|add|sub|mul|div|mod)\s*\()(geo\.)?[a-z_]+(?=\s*\()/i
GEOGRAPHY.5: /geography'[^']*'/i
DURATION.5: /duration'[^']*'/i
DATETIME.5: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?/i
DATE.4: /\d{4}-\d{2}-\d{2}/
TIME.4: /\d{2}:\d{2}(:\d{2}(\.\d+)?)?/
NUMBER.2: /-?\d+(\.\d+)?([eE][+-]?\d+)?/
INT.2: /\d+/
STRING: /'([^']|'')*'/
IOTID.2: /@iot\.id/
INDEX: /\[\d{1,6}\]/
NAME: /[A-Za-z_][A-Za-z0-9_]*/

%import common.WS
%ignore WS
"""

_PARSER = Lark(
    GRAMMAR,
    start=["start_filter", "start_orderby", "start_select", "start_expand"],
    parser="lalr",
    maybe_placeholders=True,
)

#: Values larger than this are not sent to the database as integers (bigint).
_MAX_INT = 2**62

_DURATION = re.compile(
    r"^(-)?P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$",
    re.IGNORECASE,
)


def parse_datetime(text: str) -> datetime:
    """An ISO 8601 date-time; without an offset it is UTC."""
    value = datetime.fromisoformat(text.upper())
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


#: Longer durations are refused: added to a stored time they would leave the calendar.
MAX_DURATION = timedelta(days=365_250)


def parse_duration(text: str) -> timedelta:
    """An ISO 8601 duration of weeks, days, hours, minutes and seconds (years and
    months have no fixed length and are refused)."""
    match = _DURATION.match(text)
    if not match or text.upper().rstrip("T").endswith("P") or text.upper().endswith("T"):
        raise ValueError(f"'{text}' is not an ISO 8601 duration of days, hours, minutes, seconds")
    sign, weeks, days, hours, minutes, seconds = match.groups()
    try:
        delta = timedelta(
            weeks=float(weeks or 0),
            days=float(days or 0),
            hours=float(hours or 0),
            minutes=float(minutes or 0),
            seconds=float(seconds or 0),
        )
    except OverflowError:
        delta = MAX_DURATION * 2
    if delta > MAX_DURATION:
        raise ValueError(f"'{text}' is longer than {MAX_DURATION.days} days")
    return -delta if sign else delta


class _Bad(Exception):
    """A well-formed token with a value that is not (a date that does not exist…)."""


@v_args(inline=True)
class _ToAst(Transformer[Token, Any]):
    def start_filter(self, expr: ast.Expr) -> ast.Expr:
        return expr

    start_orderby = start_select = start_expand = start_filter

    def or_(self, left: ast.Expr, _op: Token, right: ast.Expr) -> ast.Expr:
        return ast.BoolOp("or", left, right)

    def and_(self, left: ast.Expr, _op: Token, right: ast.Expr) -> ast.Expr:
        return ast.BoolOp("and", left, right)

    def not_(self, _op: Token, operand: ast.Expr) -> ast.Expr:
        return ast.Not(operand)

    def compare(self, left: ast.Expr, op: Token, right: ast.Expr) -> ast.Expr:
        return ast.Compare(op.lower(), left, right)

    def in_list(self, left: ast.Expr, _op: Token, *items: ast.Expr) -> ast.Expr:
        if len(items) > MAX_IN:
            raise _Bad(f"'in' takes at most {MAX_IN} values, not {len(items)}")
        if len(items) > 1 and all(isinstance(i, ast.Literal) for i in items):
            # one SQL IN (…) (a long OR is too deep an expression for SQLite)
            return ast.Compare("in", left, ast.Literal("list", items))

        # x in (a, b) = x eq a or x eq b, as a balanced tree (a long list stays shallow)
        def either(part: tuple[ast.Expr, ...]) -> ast.Expr:
            if len(part) == 1:
                return ast.Compare("eq", left, part[0])
            half = len(part) // 2
            return ast.BoolOp("or", either(part[:half]), either(part[half:]))

        return either(items)

    def in_(self, left: ast.Expr, _op: Token, right: ast.Expr) -> ast.Expr:
        # 9 in properties/list: the JSON array holds 9; x in (a): x eq a
        return ast.Compare("in" if isinstance(right, ast.Path) else "eq", left, right)

    def arith(self, left: ast.Expr, op: Token, right: ast.Expr) -> ast.Expr:
        return ast.Arith(op.lower(), left, right)

    def call(self, name: Token, *args: ast.Expr | None) -> ast.Expr:
        fname = name.lower()
        given = tuple(a for a in args if a is not None)
        if fname not in ARITY:
            raise _Bad(f"unknown function '{name}'")
        low, high = ARITY[fname]
        if not low <= len(given) <= high:
            wanted = str(low) if low == high else f"{low} to {high}"
            raise _Bad(f"function {fname}() takes {wanted} arguments, got {len(given)}")
        return ast.Call(fname, given)

    def segment(self, token: Token, *indexes: Token) -> list[str]:
        # properties/list[1] → ("properties", "list", "[1]")
        return ["id" if token.type == "IOTID" else str(token), *map(str, indexes)]

    def path(self, *items: Any) -> ast.Expr | ast.Lambda:
        *segments, func, var, cond = items
        path = ast.Path(tuple(part for segment in segments for part in segment))
        if func is None:
            return path
        op = str(func).lower()
        if op not in ("any", "all"):
            raise _Bad(f"'{path}/{func}(…)': only the lambda operators any and all go there")
        return ast.Lambda(op, path, str(var), cond)

    def string(self, token: Token) -> ast.Literal:
        return ast.Literal("string", token[1:-1].replace("''", "'"))

    def number(self, token: Token) -> ast.Literal:
        text = str(token)
        if re.fullmatch(r"-?\d+", text) and abs(int(text)) < _MAX_INT:
            return ast.Literal("number", int(text))
        value = float(text)
        if value != value or value in (float("inf"), float("-inf")):
            raise _Bad(f"number {text} is out of range")
        return ast.Literal("number", value)

    def true(self, _t: Token) -> ast.Literal:
        return ast.Literal("bool", True)

    def false(self, _t: Token) -> ast.Literal:
        return ast.Literal("bool", False)

    def null(self, _t: Token) -> ast.Literal:
        return ast.Literal("null", None)

    def datetime(self, token: Token) -> ast.Literal:
        return ast.Literal("datetime", _checked(parse_datetime, token))

    def interval(self, start: Token, end: Token) -> ast.Literal:
        a, b = _checked(parse_datetime, start), _checked(parse_datetime, end)
        if b < a:
            raise _Bad(f"time interval {start}/{end} ends before it starts")
        return ast.Literal("interval", (a, b))

    def date(self, token: Token) -> ast.Literal:
        return ast.Literal("date", _checked(date.fromisoformat, token))

    def time(self, token: Token) -> ast.Literal:
        return ast.Literal("time", _checked(time.fromisoformat, token))

    def duration(self, token: Token) -> ast.Literal:
        return ast.Literal("duration", _checked(parse_duration, Token(token.type, token[9:-1])))

    def geography(self, token: Token) -> ast.Literal:
        return ast.Literal("geography", token[10:-1].strip())

    # $orderby, $select
    def orderby(self, *items: ast.OrderKey) -> tuple[ast.OrderKey, ...]:
        return items

    def orderitem(self, expr: ast.Expr, direction: Token | None) -> ast.OrderKey:
        return ast.OrderKey(expr, direction is not None and direction.lower() == "desc")

    def select(self, *paths: ast.Path) -> tuple[ast.Path, ...]:
        for path in paths:
            if not isinstance(path, ast.Path):
                raise _Bad("$select takes property paths, not any() or all()")
        return paths

    # $expand
    def expand(self, *items: ast.ExpandItem) -> tuple[ast.ExpandItem, ...]:
        return _merge_expand(items)

    def expitem(self, *parts: Any) -> ast.ExpandItem:
        names = [str(p) for p in parts if isinstance(p, Token) and p.type == "NAME"]
        opts: dict[str, Any] = {}
        for opt in parts:
            if isinstance(opt, tuple) and len(opt) == 2 and isinstance(opt[0], str):
                if opt[0] in opts:
                    raise _Bad(f"${opt[0]} given twice in $expand={'/'.join(names)}(…)")
                opts[opt[0]] = opt[1]
        item = ast.ExpandItem(names[-1], ast.Options(**opts))
        for name in reversed(names[:-1]):
            item = ast.ExpandItem(name, ast.Options(expand=(item,)))
        return item

    def opt_filter(self, expr: ast.Expr) -> tuple[str, Any]:
        return ("filter", expr)

    def opt_orderby(self, keys: tuple[ast.OrderKey, ...]) -> tuple[str, Any]:
        return ("orderby", keys)

    def opt_select(self, paths: tuple[ast.Path, ...]) -> tuple[str, Any]:
        return ("select", paths)

    def opt_expand(self, items: tuple[ast.ExpandItem, ...]) -> tuple[str, Any]:
        return ("expand", items)

    def opt_top(self, token: Token) -> tuple[str, Any]:
        return ("top", _bounded_int("$top", str(token)))

    def opt_skip(self, token: Token) -> tuple[str, Any]:
        return ("skip", _bounded_int("$skip", str(token)))

    def opt_count(self, token: Token) -> tuple[str, Any]:
        return ("count", token.lower() == "true")


def _checked(convert: Callable[[str], Any], token: Token) -> Any:
    try:
        return convert(str(token))
    except (ValueError, OverflowError) as exc:
        raise _Bad(f"'{token}' is not a valid value: {exc}") from None


def _merge_expand(items: tuple[ast.ExpandItem, ...]) -> tuple[ast.ExpandItem, ...]:
    """``Thing/Datastreams,Thing/Locations`` expands Thing once, with both inside."""
    merged: dict[str, ast.ExpandItem] = {}
    for item in items:
        before = merged.get(item.navigation)
        if before is None:
            merged[item.navigation] = item
            continue
        a, b = before.options, item.options
        if a.filter is not None and b.filter is not None:
            raise _Bad(f"$expand names {item.navigation} twice with a $filter each")
        options = ast.Options(
            top=b.top if b.top is not None else a.top,
            skip=b.skip or a.skip,
            count=a.count or b.count,
            filter=a.filter if a.filter is not None else b.filter,
            orderby=a.orderby or b.orderby,
            select=a.select if b.select is None else (a.select or ()) + b.select,
            expand=_merge_expand(a.expand + b.expand),
        )
        merged[item.navigation] = ast.ExpandItem(item.navigation, options)
    return tuple(merged.values())


def _bounded_int(option: str, text: str) -> int:
    value = int(text)
    if value >= _MAX_INT:
        raise _Bad(f"{option}={text} is too large")
    return value


#: Limits of one query option, so that a request costs a bounded parse and SQL.
MAX_OPTION_LENGTH = 64 * 1024
MAX_IN = 1_000
MAX_ORDERBY_KEYS = 20
MAX_PATH_SEGMENTS = 32
MAX_NODES = 500


def _parse(option: str, text: str, start: str) -> Any:
    if not text.strip():
        raise StaError(400, f"{option} is empty.")
    if len(text) > MAX_OPTION_LENGTH:
        raise StaError(400, f"{option} is longer than {MAX_OPTION_LENGTH} characters.")
    if start == "start_orderby" and text.count(",") > MAX_ORDERBY_KEYS * 16:
        # refused before parsing: a key has a few commas at most (function arguments)
        raise StaError(400, f"$orderby takes at most {MAX_ORDERBY_KEYS} keys.")
    shown = text if len(text) <= 300 else text[:300] + "…"
    try:
        tree = _PARSER.parse(text, start=start)
        return _ToAst().transform(tree)
    except UnexpectedEOF:
        raise StaError(400, f"{option}: the expression ends too early: '{shown}'.") from None
    except UnexpectedCharacters as exc:
        at = exc.pos_in_stream or 0
        raise StaError(
            400,
            f"{option}: unexpected character {text[at]!r} at position {at + 1}: '{shown}'.",
        ) from None
    except UnexpectedInput as exc:
        token = getattr(exc, "token", None)
        if token is None or token.type == "$END":
            raise StaError(400, f"{option}: the expression ends too early: '{shown}'.") from None
        position = (token.start_pos or 0) + 1
        raise StaError(
            400, f"{option}: unexpected '{token}' at position {position}: '{shown}'."
        ) from None
    except LarkError as exc:
        original = getattr(exc, "orig_exc", exc)
        if isinstance(original, _Bad):
            raise StaError(400, f"{option}: {original}.") from None
        if isinstance(original, StaError):
            raise original from None
        raise StaError(400, f"{option}: cannot parse '{shown}'.") from None
    except RecursionError:
        raise StaError(400, f"{option}: the expression is nested too deeply.") from None


#: Deeper expressions are refused (the translation recurses along the tree).
MAX_DEPTH = 100


def _depth(expr: ast.Expr) -> int:
    deepest, stack = 0, [(expr, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(node, ast.Call):
            stack.extend((a, depth + 1) for a in node.args)
        elif isinstance(node, ast.Not):
            stack.append((node.operand, depth + 1))
        elif isinstance(node, ast.Lambda):
            stack += [(node.nav, depth + 1), (node.cond, depth + 1)]
        elif isinstance(node, ast.BoolOp | ast.Compare | ast.Arith):
            stack += [(node.left, depth + 1), (node.right, depth + 1)]
    return deepest


def _shallow(option: str, expr: ast.Expr) -> ast.Expr:
    """``expr`` when it is small enough: not deeper than ``MAX_DEPTH``, at most
    ``MAX_NODES`` operators, functions, paths and literals (an ``in (…)`` list is one),
    and no path longer than ``MAX_PATH_SEGMENTS``."""
    if _depth(expr) > MAX_DEPTH:
        raise StaError(400, f"{option}: the expression is nested deeper than {MAX_DEPTH} levels.")
    nodes, stack = 0, [expr]
    while stack:
        node = stack.pop()
        nodes += 1
        if isinstance(node, ast.Path) and len(node.segments) > MAX_PATH_SEGMENTS:
            raise StaError(
                400, f"{option}: a path has more than {MAX_PATH_SEGMENTS} steps ('{node}')."
            )
        if isinstance(node, ast.Call):
            stack.extend(node.args)
        elif isinstance(node, ast.Not):
            stack.append(node.operand)
        elif isinstance(node, ast.Lambda):
            stack += [node.nav, node.cond]
        elif isinstance(node, ast.BoolOp | ast.Compare | ast.Arith):
            stack += [node.left, node.right]
    if nodes > MAX_NODES:
        raise StaError(
            400, f"{option}: the expression has more than {MAX_NODES} terms; simplify it."
        )
    return expr


def parse_filter(text: str) -> ast.Expr:
    return _shallow("$filter", _parse("$filter", text, "start_filter"))


def parse_orderby(text: str) -> tuple[ast.OrderKey, ...]:
    keys: tuple[ast.OrderKey, ...] = _parse("$orderby", text, "start_orderby")
    if len(keys) > MAX_ORDERBY_KEYS:
        raise StaError(400, f"$orderby takes at most {MAX_ORDERBY_KEYS} keys, not {len(keys)}.")
    for key in keys:
        _shallow("$orderby", key.expr)
    return keys


def parse_select(text: str) -> tuple[ast.Path, ...]:
    return _parse("$select", text, "start_select")  # type: ignore[no-any-return]


def parse_expand(text: str) -> tuple[ast.ExpandItem, ...]:
    items: tuple[ast.ExpandItem, ...] = _parse("$expand", text, "start_expand")
    _check_expand(items, 1)
    return items


def _check_expand(items: tuple[ast.ExpandItem, ...], level: int) -> None:
    if level > 10:
        raise StaError(400, "$expand: nested deeper than 10 levels.")
    for item in items:
        if item.options.filter is not None:
            _shallow("$expand … $filter", item.options.filter)
        if len(item.options.orderby) > MAX_ORDERBY_KEYS:
            raise StaError(400, f"$expand … $orderby takes at most {MAX_ORDERBY_KEYS} keys.")
        for key in item.options.orderby:
            _shallow("$expand … $orderby", key.expr)
        _check_expand(item.options.expand, level + 1)


def _non_negative(option: str, text: str) -> int:
    if not re.fullmatch(r"\s*\d+\s*", text):
        raise StaError(400, f"{option} must be a non-negative integer, not '{text}'.")
    value = int(text)
    if value >= _MAX_INT:
        raise StaError(400, f"{option}={text} is too large.")
    return value


#: The query options this module reads; others (``$resultFormat``…) are left to the caller.
OPTIONS = ("$filter", "$orderby", "$select", "$expand", "$top", "$skip", "$count")


def parse_options(querydict: Mapping[str, Any]) -> ast.Options:
    """The query options of a request (a Django ``QueryDict`` or a plain mapping of
    str → str) as ``ast.Options``; every malformed option raises ``StaError(400)``."""
    values: dict[str, str] = {}
    getlist = getattr(querydict, "getlist", None)
    for key in querydict:
        option = str(key).lower()  # FROST's clients send $orderBy
        if option not in OPTIONS:
            continue
        given = getlist(key) if getlist else [querydict[key]]
        if option in values or len(given) > 1:
            raise StaError(400, f"{option} is given more than once; give it once.")
        values[option] = str(given[0])
    kwargs: dict[str, Any] = {}
    if "$top" in values:
        kwargs["top"] = _non_negative("$top", values["$top"])
    if "$skip" in values:
        kwargs["skip"] = _non_negative("$skip", values["$skip"])
    if "$count" in values:
        text = values["$count"].strip().lower()
        if text not in ("true", "false"):
            raise StaError(400, f"$count must be true or false, not '{values['$count']}'.")
        kwargs["count"] = text == "true"
    if "$filter" in values:
        kwargs["filter"] = parse_filter(values["$filter"])
    if "$orderby" in values:
        kwargs["orderby"] = parse_orderby(values["$orderby"])
    if "$select" in values:
        kwargs["select"] = parse_select(values["$select"])
    if "$expand" in values:
        kwargs["expand"] = parse_expand(values["$expand"])
    return ast.Options(**kwargs)
