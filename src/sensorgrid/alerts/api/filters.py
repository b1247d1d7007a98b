from django_filters import rest_framework as filters

from sensorgrid.alerts.models import Alert, AlertRule, Channel, Delivery, DeliveryStatus, Forwarder
from sensorgrid.api.filters import UTCDateTimeFilter, id_filter


class ChannelFilter(filters.FilterSet):
    organization = id_filter("organization")

    class Meta:
        model = Channel
        fields = ["organization", "kind", "enabled"]


class AlertRuleFilter(filters.FilterSet):
    organization = id_filter("organization")
    node = id_filter("node")
    quantity = filters.CharFilter(field_name="quantity__key")

    class Meta:
        model = AlertRule
        fields = ["organization", "kind", "scope", "severity", "enabled", "node", "quantity"]


class AlertFilter(filters.FilterSet):
    organization = id_filter("organization")
    rule = id_filter("rule")
    node = id_filter("node")
    quantity = filters.CharFilter(field_name="quantity__key")
    kind = filters.CharFilter(field_name="rule__kind")
    open = filters.BooleanFilter(field_name="resolved_at", lookup_expr="isnull", label="Open")
    acknowledged = filters.BooleanFilter(
        field_name="acknowledged_at", lookup_expr="isnull", exclude=True, label="Acknowledged"
    )
    opened_after = UTCDateTimeFilter(field_name="opened_at", lookup_expr="gte")
    opened_before = UTCDateTimeFilter(field_name="opened_at", lookup_expr="lt")

    class Meta:
        model = Alert
        fields = [
            "organization",
            "rule",
            "node",
            "quantity",
            "kind",
            "severity",
            "open",
            "acknowledged",
            "opened_after",
            "opened_before",
        ]


class DeliveryFilter(filters.FilterSet):
    organization = id_filter("organization")
    channel = id_filter("channel")
    alert = id_filter("alert")
    forwarder = id_filter("forwarder")
    status = filters.ChoiceFilter(choices=DeliveryStatus.choices)

    class Meta:
        model = Delivery
        fields = ["organization", "channel", "alert", "forwarder", "status", "event"]


class ForwarderFilter(filters.FilterSet):
    organization = id_filter("organization")
    channel = id_filter("channel")

    class Meta:
        model = Forwarder
        fields = ["organization", "channel", "enabled"]
