from django_filters import rest_framework as filters
from rest_framework import filters as rest_filters
from rest_framework.exceptions import ValidationError


def id_filter(field: str) -> filters.NumberFilter:
    """Filter by a related object's id without validating that the object exists.

    ModelChoiceFilter would answer 400 for unknown ids but 200 for foreign ones,
    telling a stranger which ids exist; a plain number filter just returns nothing.
    """
    return filters.NumberFilter(field_name=f"{field}_id", min_value=1, max_value=2**63 - 1)


class SearchFilter(rest_filters.SearchFilter):
    """DRF's search, with errors keyed by the parameter like every other 400.

    DRF answers a term with a NUL character with a bare list of messages.
    """

    def get_search_terms(self, request):
        try:
            return super().get_search_terms(request)
        except ValidationError as exc:
            raise ValidationError({self.search_param: exc.detail}) from None
