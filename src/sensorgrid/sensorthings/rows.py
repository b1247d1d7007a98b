"""Rows the read path serializes, without Django model instances.

A read loads rows only to write them as JSON: ``serialize`` and the paging code read
attributes (each field's ``attname``, the annotations, ``pk``) and nothing else. A model
instance per row (``Model.from_db``: its state, a descriptor call per foreign key) was
about a third of the Python time of a large ``$expand``: "the latest Observation of
every Thing" built 6,500 of them (docs/performance.md). A ``Row`` carries the same
attribute names, with the values converted as the ORM converts them for a model
(``from_db_value``: JSON, times), so what is written does not change.

Writes, paths (``read.resolve``) and anything that saves keep model instances.
"""

from collections.abc import Iterable
from typing import Any

from django.db import connections, models
from django.db.models.sql import Query


class Row:
    """One row: its columns and annotations as attributes, ``pk`` its primary key."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__ = values

    def __repr__(self) -> str:
        return f"Row(pk={self.__dict__.get('pk')!r})"


def _rows(pk: str, names: list[str], tuples: Iterable[Any]) -> list[Any]:
    out: list[Any] = []
    for values in tuples:
        data = dict(zip(names, values, strict=True))
        data["pk"] = data[pk]
        out.append(Row(data))
    return out


def rows_of(qs: models.QuerySet) -> list[Any]:
    """The rows of ``qs`` as ``Row``s: every concrete field (by ``attname``) and every
    annotation, as ``qs.values()`` reads them (sliced, ordered, filtered as ``qs``)."""
    pk = qs.model._meta.pk.attname
    out: list[Any] = []
    for data in qs.values():
        data["pk"] = data[pk]
        out.append(Row(data))
    return out


def raw_rows(model: type[models.Model], sql: str, params: list[Any], using: str) -> list[Any]:
    """The rows of a raw statement over ``model``'s columns (and extra columns, kept by
    their names) as ``Row``s: ``model.objects.raw(sql, params)`` without the instances,
    with the same conversions (a column named as a field's column is that field)."""
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        columns = [column.name for column in cursor.description]
        fetched = cursor.fetchall()
    by_column = {f.column: f for f in model._meta.concrete_fields}
    fields = [by_column.get(column) for column in columns]
    names = [f.attname if f is not None else c for f, c in zip(fields, columns, strict=True)]
    compiler = connection.ops.compiler("SQLCompiler")(Query(model), connection, using)
    table = model._meta.db_table
    # None for a column that is no field (an annotation): no converter, as in raw()
    columns_of: list[Any] = [f.get_col(table) if f else None for f in fields]
    converters = compiler.get_converters(columns_of)
    tuples: Iterable[Any] = fetched
    if converters:
        tuples = compiler.apply_converters(fetched, converters)
    return _rows(model._meta.pk.attname, names, tuples)
