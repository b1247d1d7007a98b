"""The alert rule form of the dashboard: the common case of the rules API in one page.

The form only collects input; whether a rule is valid is decided by the API's
serializers (``AlertRuleSerializer``, ``ChannelSerializer``), whose errors are put
back next to the fields they concern.
"""

from typing import Any, TypeVar
from urllib.parse import urlsplit

from django import forms
from django.db import transaction

from sensorgrid.alerts.api.serializers import AlertRuleSerializer, ChannelSerializer
from sensorgrid.alerts.models import AlertRule, Channel, ChannelKind, Severity
from sensorgrid.inventory.models import Node, Quantity, Site
from sensorgrid.tenancy.models import Organization
from sensorgrid.tenancy.scoping import Action

SCOPES = [
    ("organization", "Every node of the organization"),
    ("site", "Nodes installed at a site"),
    ("node", "One node"),
]
KINDS = [
    ("threshold", "Threshold: a value above or below a limit"),
    ("no_data", "No data: nothing received for a while"),
    ("node_health", "Node health: the node is MISSING or DEAD"),
]

#: Where the serializer's errors go in the form (None: at the top of the form).
FIELD_OF = {
    "organization": "organization",
    "name": "name",
    "scope": "scope",
    "node": "node",
    "site": "site",
    "kind": "kind",
    "quantity": "quantity",
    "severity": "severity",
    "channels": "channel",
}
PARAM_FIELD_OF = {
    "above": "value",
    "below": "value",
    "clear": "clear",
    "for_seconds": "for_minutes",
}


F = TypeVar("F", bound=forms.Field)


class OwnedChoiceField(forms.ModelChoiceField):
    """A choice among rows of organizations; ``with_organization`` names each row's."""

    #: set when the user owns several organizations: the same names may exist in two
    with_organization = False

    def label_from_instance(self, obj: Any) -> str:
        if self.with_organization:
            return f"{obj} · {obj.organization.name}"
        return super().label_from_instance(obj)


class RuleForm(forms.Form):
    name = forms.CharField(max_length=200, help_text="E.g. “CO2 too high in classrooms”.")
    organization = forms.ModelChoiceField(queryset=Organization.objects.none())
    scope = forms.ChoiceField(choices=SCOPES, initial="organization", widget=forms.RadioSelect)
    site = OwnedChoiceField(
        queryset=Site.objects.none(), required=False, help_text="With the site scope."
    )
    node = OwnedChoiceField(
        queryset=Node.objects.none(), required=False, help_text="With the node scope."
    )
    kind = forms.ChoiceField(choices=KINDS, initial="threshold", widget=forms.RadioSelect)
    quantity = forms.ModelChoiceField(
        queryset=Quantity.objects.order_by("key"),
        to_field_name="key",
        required=False,
        help_text="Threshold and no-data rules watch one quantity; node health none.",
    )
    direction = forms.ChoiceField(
        choices=[("above", "above"), ("below", "below")], initial="above", required=False
    )
    value = forms.FloatField(
        required=False,
        label="Limit",
        help_text="Threshold rules: an alert opens when the value is above (below) this.",
    )
    clear = forms.FloatField(
        required=False,
        label="Clear at",
        help_text="The alert resolves when the value crosses back over this "
        "(default: the limit itself).",
    )
    for_minutes = forms.FloatField(
        required=False,
        min_value=0,
        initial=0,
        label="For (minutes)",
        help_text="Threshold: how long the condition must hold (0: at once). "
        "No data: after how long without data (at least 1).",
    )
    severity = forms.ChoiceField(choices=Severity.choices, initial=Severity.WARNING)
    channel = OwnedChoiceField(
        queryset=Channel.objects.none(),
        required=False,
        label="Existing channel",
        help_text="E-mail, webhook or MQTT; channels are managed under Alert channels.",
        empty_label="(none)",
    )
    webhook_url = forms.CharField(
        required=False,
        max_length=2000,
        label="Or a new webhook URL",
        widget=forms.URLInput(attrs={"placeholder": "https://example.org/hooks/sensorgrid"}),
        help_text="A new webhook channel is created; its signing secret is shown once.",
    )

    def __init__(self, *args, request, **kwargs) -> None:
        super().__init__(*args, **{**kwargs, "label_suffix": ""})
        self.request = request
        user = request.user
        owned = Organization.objects.for_user(user, Action.CHANGE).order_by("name")
        several = owned.count() > 1
        self._field("organization", forms.ModelChoiceField).queryset = owned
        only = None if several else owned.first()
        if only is not None:
            self.fields["organization"].initial = only.pk
        self._field("site", OwnedChoiceField).queryset = (
            Site.objects.for_user(user, Action.CHANGE)
            .select_related("organization")
            .order_by("organization__name", "name")
        )
        self._field("node", OwnedChoiceField).queryset = (
            Node.objects.for_user(user, Action.CHANGE)
            .select_related("organization")
            .order_by("organization__name", "alias", "device_id")
        )
        self._field("channel", OwnedChoiceField).queryset = (
            Channel.objects.for_user(user, Action.CHANGE)
            .select_related("organization")
            .order_by("organization__name", "name", "pk")
        )
        if several:  # the same names may exist in two organizations
            for name in ("site", "node", "channel"):
                self._field(name, OwnedChoiceField).with_organization = True
        self.rule_serializer: AlertRuleSerializer | None = None
        self.channel_serializer: ChannelSerializer | None = None

    def _field(self, name: str, kind: type[F]) -> F:
        """The form's field ``name``, of the class it is declared with above."""
        field = self.fields[name]
        if not isinstance(field, kind):
            raise TypeError(f"{name} is a {type(field).__name__}, not a {kind.__name__}")
        return field

    def params(self) -> dict:
        data = self.cleaned_data
        kind = data.get("kind")
        minutes = data.get("for_minutes")
        if kind == "threshold":
            params = {}
            if data.get("value") is not None:
                params[data.get("direction") or "above"] = data["value"]
            if data.get("clear") is not None:
                params["clear"] = data["clear"]
            if minutes is not None:
                params["for_seconds"] = minutes * 60
            return params
        if kind == "no_data":
            return {"for_seconds": minutes * 60} if minutes is not None else {}
        return {}

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        if data["kind"] == "threshold" and data.get("value") is None:
            self.add_error("value", "A threshold rule needs a limit.")
        if data.get("channel") and data.get("webhook_url"):
            self.add_error("webhook_url", "Pick an existing webhook or give a new URL, not both.")
        if self.errors:
            return data
        organization = data["organization"]
        context = {"request": self.request}
        self.rule_serializer = AlertRuleSerializer(
            data={
                "organization": organization.pk,
                "name": data["name"],
                "kind": data["kind"],
                "params": self.params(),
                "scope": data["scope"],
                "node": data["node"].pk if data.get("node") else None,
                "site": data["site"].pk if data.get("site") else None,
                "quantity": data["quantity"].key if data.get("quantity") else None,
                "severity": data["severity"],
                "channels": [data["channel"].pk] if data.get("channel") else [],
            },
            context=context,
        )
        if not self.rule_serializer.is_valid():
            self._add_serializer_errors(self.rule_serializer.errors, FIELD_OF)
        if data.get("webhook_url"):
            url = data["webhook_url"]
            self.channel_serializer = ChannelSerializer(
                data={
                    "organization": organization.pk,
                    "name": f"Webhook {urlsplit(url).netloc or url}"[:200],
                    "kind": ChannelKind.WEBHOOK,
                    "config": {"url": url},
                },
                context=context,
            )
            if not self.channel_serializer.is_valid():
                self._add_serializer_errors(
                    self.channel_serializer.errors, {"config": "webhook_url"}
                )
        return data

    def _add_serializer_errors(self, errors: dict, fields: dict) -> None:
        for name, problem in errors.items():
            if name == "params" and isinstance(problem, dict):
                for param, message in problem.items():
                    field = PARAM_FIELD_OF.get(param)
                    text = " ".join(_messages(message))
                    if param == "for_seconds":
                        text = f"{text} (in seconds; this form counts minutes)"
                    self.add_error(field, text if field else f"{param}: {text}")
                continue
            field = fields.get(name)
            for message in _messages(problem):
                self.add_error(field if field in self.fields else None, message)

    def save(self) -> tuple[AlertRule, Channel | None]:
        """The new rule and, if one was made for it, the new webhook channel."""
        if self.rule_serializer is None:
            raise ValueError("save() needs a form that validated (is_valid() first)")
        with transaction.atomic():
            channel = self.channel_serializer.save() if self.channel_serializer else None
            rule = self.rule_serializer.save()
            if channel is not None:
                rule.channels.add(channel)
        return rule, channel


def _messages(problem) -> list[str]:
    if isinstance(problem, dict):
        return [f"{key}: {m}" for key, value in problem.items() for m in _messages(value)]
    if isinstance(problem, list | tuple):
        return [m for item in problem for m in _messages(item)]
    return [str(problem)]
