from django_filters import rest_framework as filters

from sensorgrid.api.filters import UTCDateTimeFilter, id_filter
from sensorgrid.inventory.models import Installation, Node, NodeModel, NodeStatus, Room, Site


class SiteFilter(filters.FilterSet):
    organization = id_filter("organization")

    class Meta:
        model = Site
        fields = ["organization"]


class RoomFilter(filters.FilterSet):
    site = id_filter("site")
    organization = id_filter("site__organization")

    class Meta:
        model = Room
        fields = ["site", "organization"]


class NodeModelFilter(filters.FilterSet):
    organization = id_filter("organization")
    shared = filters.BooleanFilter(field_name="organization", lookup_expr="isnull")
    quantity = filters.CharFilter(field_name="quantities__key", distinct=True)

    class Meta:
        model = NodeModel
        fields = ["organization", "protocol", "codec", "shared", "quantity"]


class NodeFilter(filters.FilterSet):
    organization = id_filter("organization")
    model = id_filter("model")
    # Device ids are unique ignoring case, and DevEUIs are stored in lower case: a
    # DevEUI copied in upper case from a network server's console must still match.
    device_id = filters.CharFilter(lookup_expr="iexact")
    seen_since = UTCDateTimeFilter(field_name="last_seen", lookup_expr="gte")
    status = filters.ChoiceFilter(
        choices=NodeStatus.choices, help_text="Health state: ALIVE, MISSING, DEAD or UNKNOWN."
    )

    class Meta:
        model = Node
        fields = ["organization", "model", "device_id", "seen_since", "status"]


class InstallationFilter(filters.FilterSet):
    node = id_filter("node")
    room = id_filter("room")
    site = id_filter("room__site")
    active = filters.BooleanFilter(method="filter_active", label="Open (no end) installations")

    class Meta:
        model = Installation
        fields = ["node", "room", "site", "is_public", "active"]

    def filter_active(self, queryset, name, value):
        return queryset.filter(end__isnull=value)
