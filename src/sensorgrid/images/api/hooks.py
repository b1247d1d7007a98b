"""What apps above images add to its API: query filters and fields of each picture.

The outliers app registers ``outlier`` (``?outlier=true``) and its score fields here in
its ``AppConfig.ready``; images imports none of them (its layer is below).

- a filter: ``FILTERS.add("outlier", ImageFilter(apply, description))``; ``apply(queryset,
  raw_value)`` returns the narrowed queryset or raises ``ValueError`` (a 400 naming the
  parameter).
- fields: ``FIELDS.add("outlier", ImageField(values))``; ``values(images)`` returns, per
  image id, a JSON-able value shown under that key of each picture in the list and
  detail answers.

``members_only``: what the filter or field tells is for members of the picture's node's
organization, even where the picture itself is public (outlier verdicts): for anybody
else the filter is a 400 and the field is null.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from sensorgrid.registry import Registry


@dataclass(frozen=True, slots=True)
class ImageFilter:
    apply: Callable[[QuerySet, str], QuerySet]
    description: str
    members_only: bool = False


@dataclass(frozen=True, slots=True)
class ImageField:
    values: Callable[[Sequence[Any]], dict[int, object]]
    members_only: bool = False


FILTERS: Registry[ImageFilter] = Registry("image filter")
FIELDS: Registry[ImageField] = Registry("image field")


def filters() -> list[tuple[str, ImageFilter]]:
    """The registered filters with their query parameter names."""
    return [(key, FILTERS.get(key)) for key in FILTERS.keys()]  # noqa: SIM118  # a Registry


def fields() -> list[tuple[str, ImageField]]:
    """The registered fields with their keys."""
    return [(key, FIELDS.get(key)) for key in FIELDS.keys()]  # noqa: SIM118  # a Registry
