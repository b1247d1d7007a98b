"""The alert-channel form: e-mail, webhook or MQTT, one set of fields per kind.

The form gathers the kind's fields into the API's ``config`` object; validation is
``ChannelSerializer``'s (``ApiForm``), and its ``config`` errors ("url: …",
"to: …") are shown next to the field they name. Secrets stay write-only: the MQTT
password is never put back into the form, and left empty on an edit it is kept.
"""

import re
from typing import Any

from django import forms

from sensorgrid.alerts.api.serializers import ChannelSerializer
from sensorgrid.alerts.models import Channel, ChannelKind
from sensorgrid.dashboard.manage.api_form import ApiForm, messages
from sensorgrid.dashboard.manage.forms import offer_owned_organizations
from sensorgrid.tenancy.models import Organization

#: the form field of each kind's config key
CONFIG_FIELDS = {
    ChannelKind.EMAIL: {"to": "email_to"},
    ChannelKind.WEBHOOK: {"url": "webhook_url"},
    ChannelKind.MQTT: {"url": "mqtt_url", "topic": "mqtt_topic", "password": "mqtt_password"},
}


def addresses(text: str) -> list[str]:
    return [a for a in re.split(r"[\s,;]+", text or "") if a]


class ChannelForm(ApiForm):
    serializer_class = ChannelSerializer

    organization = forms.ModelChoiceField(queryset=Organization.objects.none())
    name = forms.CharField(max_length=200, help_text="E.g. “Caretaker’s mail”.")
    kind = forms.ChoiceField(choices=ChannelKind.choices, initial=ChannelKind.EMAIL)
    enabled = forms.BooleanField(required=False, initial=True, help_text="Off: nothing is sent.")
    email_to = forms.CharField(
        required=False,
        label="E-mail: to",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One or more addresses, separated by commas or new lines.",
    )
    webhook_url = forms.CharField(
        required=False,
        max_length=2000,
        label="Webhook: URL",
        widget=forms.URLInput(attrs={"placeholder": "https://example.org/hooks/sensorgrid"}),
        help_text="Gets a signed JSON POST per event; the signing secret is shown once.",
    )
    mqtt_url = forms.CharField(
        required=False,
        max_length=2000,
        label="MQTT: broker",
        widget=forms.TextInput(attrs={"placeholder": "mqtts://user@broker.example.org:8883"}),
    )
    mqtt_topic = forms.CharField(required=False, max_length=500, label="MQTT: topic")
    mqtt_password = forms.CharField(
        required=False,
        label="MQTT: password",
        widget=forms.PasswordInput(render_value=False),
        help_text="Never shown again; left empty on an edit, the stored one stays.",
    )

    def __init__(self, data=None, *, request, instance: Channel | None = None, **kwargs):
        initial: dict[str, Any] = {}
        if instance is not None:
            config = instance.config or {}
            initial = {"name": instance.name, "enabled": instance.enabled}
            if instance.kind == ChannelKind.EMAIL:
                initial["email_to"] = ", ".join(config.get("to", []))
            elif instance.kind == ChannelKind.WEBHOOK:
                initial["webhook_url"] = config.get("url", "")
            else:
                initial["mqtt_url"] = config.get("url", "")
                initial["mqtt_topic"] = config.get("topic", "")
        kwargs.setdefault("initial", initial)
        super().__init__(data, request=request, instance=instance, **kwargs)
        if instance is None:
            offer_owned_organizations(self, request.user)
            del self.fields["enabled"]
        else:  # organization and kind stay (the API: "Create a new channel for another kind")
            del self.fields["organization"]
            del self.fields["kind"]
            for kind, fields in CONFIG_FIELDS.items():
                if kind != instance.kind:
                    for name in fields.values():
                        del self.fields[name]

    @property
    def channel_kind(self) -> str:
        if self.instance is not None:
            assert isinstance(self.instance, Channel)
            return self.instance.kind
        return self.cleaned_data.get("kind", "")

    def api_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        result: dict[str, Any] = {"name": data["name"]}
        if self.instance is None:
            result["organization"] = data["organization"].pk
            result["kind"] = data["kind"]
        else:
            result["enabled"] = data["enabled"]
        kind = self.channel_kind
        if kind == ChannelKind.EMAIL:
            result["config"] = {"to": addresses(data.get("email_to", ""))}
        elif kind == ChannelKind.WEBHOOK:
            result["config"] = {"url": data.get("webhook_url", "")}
        else:
            config = {"url": data.get("mqtt_url", ""), "topic": data.get("mqtt_topic", "")}
            if data.get("mqtt_password"):
                config["password"] = data["mqtt_password"]
            result["config"] = config
        return result

    def add_api_errors(self, errors: dict) -> None:
        fields = CONFIG_FIELDS.get(self.channel_kind, {})  # type: ignore[call-overload]
        for name, problem in errors.items():
            for message in messages(problem):
                field = name if name in self.fields else None
                if name == "config":
                    key = message.split(":", 1)[0].strip()
                    field = fields.get(key) or next(iter(fields.values()), None)
                self.add_error(field, message)
