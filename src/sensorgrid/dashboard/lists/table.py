"""What every list page does alike: sortable headers, limit/offset paging, CSV streaming.

Filters travel as GET parameters so a filtered, sorted page is a bookmark; the links
built here keep every other parameter and drop only what they replace.
"""

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django import forms
from django.http import QueryDict, StreamingHttpResponse

#: Rows per page. Limit/offset stays fast at this size for tens of thousands of rows
#: (docs/performance.md, "Device list"); keyset paging would only pay off far beyond.
PER_PAGE = 50


def link(params: QueryDict, **changes: str | None) -> str:
    """``?query`` of ``params`` with ``changes`` applied (None removes a parameter)."""
    query = params.copy()
    for key, value in changes.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = value
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else "?"


@dataclass(frozen=True, slots=True)
class Column:
    """A table header: its label and, when sortable, the key of ``sort=``."""

    label: str
    key: str = ""
    numeric: bool = False


@dataclass(frozen=True, slots=True)
class Header:
    label: str
    url: str  # empty: not sortable
    aria_sort: str  # ascending, descending or none
    numeric: bool


def headers(columns: Iterable[Column], params: QueryDict, sort: str) -> list[Header]:
    """Headers whose links sort by their column, the second click reversing it."""
    current, descending = sort.lstrip("-"), sort.startswith("-")
    result = []
    for column in columns:
        if not column.key:
            result.append(Header(column.label, "", "", column.numeric))
            continue
        active = column.key == current
        state = ("descending" if descending else "ascending") if active else "none"
        flip = column.key if active and descending else f"-{column.key}"
        target = flip if active else column.key
        result.append(
            Header(column.label, link(params, sort=target, page=None), state, column.numeric)
        )
    return result


class SearchInput(forms.TextInput):
    input_type = "search"


@dataclass(frozen=True, slots=True)
class Control:
    """A filter field as the page draws it: plain HTML, so a select with hundreds of
    rooms costs a loop, not hundreds of widget templates (docs/performance.md)."""

    name: str
    label: str
    kind: str  # text, select, datetime-local
    value: str
    options: tuple[tuple[str, str], ...] = ()


def controls(form, fields: dict[str, list[tuple[str, str]] | None]) -> list[Control]:
    """``fields`` (name -> options, None for an input) of ``form`` with the values asked for."""
    result = []
    for name, options in fields.items():
        field = form.fields[name]
        value = str(form.data.get(name, ""))
        label = str(field.label or name.capitalize())
        if options is None:
            kind = getattr(field.widget, "input_type", "text")
            result.append(Control(name, label, kind, value))
        else:
            result.append(Control(name, label, "select", value, tuple(options)))
    return result


def errors_of(form, whole: str = "Filters") -> list[str]:
    """The form's errors as sentences naming the field (``whole``: errors of no field)."""
    result = []
    for name, problems in form.errors.items():
        field = form.fields.get(name)
        label = (field.label or name.capitalize()) if field is not None else whole
        result.append(f"{label}: {' '.join(str(p) for p in problems)}")
    return result


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list: its rows and the links to its neighbours."""

    rows: list
    number: int
    pages: int
    total: int
    first: int  # 1-based position of the first row shown
    previous_url: str
    next_url: str

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1


class PageMissing(ValueError):
    pass


def page_of(queryset, number: int, params: QueryDict, rows_of=list) -> Page:
    """Page ``number`` (1-based) of ``queryset``; ``PageMissing`` past the last page.

    ``rows_of`` turns the page's slice into rows: the list pages select only what
    ordering needs for the slice, then decorate the 50 rows shown.
    """
    total = queryset.count()
    pages = max(1, -(-total // PER_PAGE))
    if number > pages:
        raise PageMissing(
            f"There is no page {number}: the list has {pages} page{'s' if pages > 1 else ''}."
        )
    offset = (number - 1) * PER_PAGE
    rows = rows_of(queryset[offset : offset + PER_PAGE])
    previous_url = link(params, page=str(number - 1)) if number > 1 else ""
    next_url = link(params, page=str(number + 1)) if number < pages else ""
    return Page(rows, number, pages, total, offset + 1, previous_url, next_url)


class _Echo:
    """A file that hands back what is written, so csv.writer feeds a streaming answer."""

    def write(self, value: str) -> str:
        return value


def stream_csv(filename: str, header: list[str], rows: Iterator[list]) -> StreamingHttpResponse:
    """``rows`` as a CSV download, written while the database delivers them."""
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow([_inert(value) for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


#: what makes a spreadsheet read a cell as a formula (OWASP "CSV injection")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _inert(value: object) -> object:
    """A text cell a spreadsheet shows as text: names are the users', and a node named
    ``=HYPERLINK(…)`` must not run in the inspector's spreadsheet. Numbers stay numbers."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
