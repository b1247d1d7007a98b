from datetime import UTC

from django import forms
from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField
from rest_framework import filters as rest_filters
from rest_framework.exceptions import ValidationError


def id_filter(field: str) -> filters.NumberFilter:
    """Filter by a related object's id without validating that the object exists.

    ModelChoiceFilter would answer 400 for unknown ids but 200 for foreign ones,
    telling a stranger which ids exist; a plain number filter just returns nothing.
    """
    return filters.NumberFilter(field_name=f"{field}_id", min_value=1, max_value=2**63 - 1)


class UTCDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time, shifted to UTC before it reaches the database.

    PostgreSQL refuses UTC offsets beyond ±15:59, and SQLite's adapter overflows on
    dates that leave years 1…9999 when shifted to UTC; both were 500s.
    """

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(UTC)
        except OverflowError:
            raise forms.ValidationError("Out of the supported date range.", "overflow") from None


class UTCDateTimeFilter(filters.IsoDateTimeFilter):
    field_class = UTCDateTimeField


class SearchFilter(rest_filters.SearchFilter):
    """DRF's search, with errors keyed by the parameter like every other 400.

    DRF answers a term with a NUL character with a bare list of messages.
    """

    def get_search_terms(self, request):
        try:
            return super().get_search_terms(request)
        except ValidationError as exc:
            raise ValidationError({self.search_param: exc.detail}) from None
