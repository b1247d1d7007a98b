"""The query options of SensorThings API 1.1 (OGC 18-088 §9.3): ``$filter``, ``$orderby``,
``$expand``, ``$select``, ``$top``, ``$skip``, ``$count``.

Parser: a lark LALR grammar (``parse.py``), not the ``odata-query`` library. That library
(MIT, sly-based) parses OData 4 ``$filter`` only (no ``$orderby``, ``$select`` or nested
``$expand`` with ``;`` options), knows a fixed table of OData 4 functions (no STA
``substringof``, no ``st_*``; its ``geo.*`` functions and ``geography'…'`` literals fail,
its issue #48), has no STA time intervals (``2020-01-01T00:00:00Z/2020-01-02T00:00:00Z``)
and would still need our own translation for navigation any-match, JSON paths and
typed ``result``. So the grammar is ours, written in a well-kept parsing library, and the
translation to the Django ORM (``translate.py``) too.

Interface (read-core):

- ``parse_options(querydict, entity_set=None) -> Options``: every option parsed (and
  checked against ``entity_set`` when given: unknown properties and navigations are 400);
  malformed options raise ``StaError(400, …)``.
- ``apply(queryset, entity_set, options, *, visible=None) -> queryset``: ``$filter`` and
  ``$orderby`` (with the primary key last, for stable pages), as SQL. Pass
  ``visible=lambda s: walls.visible(s, user)`` so that a to-many path (``Things?$filter=
  Datastreams/Observations/result gt 3``) sees only the reader's rows.
- ``validate(options, entity_set)``: the name check alone (also for nested ``$expand``).
- ``filter_q(expr, entity_set, *, visible=None) -> Q`` and ``order_terms(keys,
  entity_set)`` for callers that build their own querysets (nested ``$expand``).
"""

from collections.abc import Mapping
from typing import Any

from sensorgrid.sensorthings.query.ast import ExpandItem, Expr, Options, OrderKey, Path
from sensorgrid.sensorthings.query.parse import parse_options as _parse_options
from sensorgrid.sensorthings.query.translate import apply, filter_q, validate
from sensorgrid.sensorthings.query.translate import order_by as order_terms
from sensorgrid.sensorthings.schema import EntitySet


def parse_options(querydict: Mapping[str, Any], entity_set: EntitySet | None = None) -> Options:
    options = _parse_options(querydict)
    if entity_set is not None:
        validate(options, entity_set)
    return options


__all__ = [
    "ExpandItem",
    "Expr",
    "Options",
    "OrderKey",
    "Path",
    "apply",
    "filter_q",
    "order_terms",
    "parse_options",
    "validate",
]
