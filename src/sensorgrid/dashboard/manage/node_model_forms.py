"""The node-model form: a kind of device, its codec chosen from the codec registry.

Validation is ``NodeModelSerializer``'s (``ApiForm``); the codec choices are the
registered codecs (``sensorgrid.ingest.codecs``), so an unknown key cannot be chosen,
and the serializer's validator would refuse it anyway.
"""

from typing import Any

from django import forms

from sensorgrid.dashboard.manage.api_form import ApiForm
from sensorgrid.dashboard.manage.forms import initial_of, offer_owned_organizations
from sensorgrid.ingest import codecs
from sensorgrid.inventory.api.serializers import NodeModelSerializer
from sensorgrid.inventory.models import NodeModel, Protocol, Quantity
from sensorgrid.tenancy.models import Organization

NO_CODEC = "(none: the network server decodes the frames)"


def codec_choices() -> list[tuple[str, str]]:
    choices = [("", NO_CODEC)]
    for key in codecs.available():
        description = codecs.get(key).description
        choices.append((key, f"{key}: {description}" if description else key))
    return choices


class NodeModelForm(ApiForm):
    serializer_class = NodeModelSerializer
    NAMES = ["manufacturer", "name", "protocol", "codec", "sampling_interval"]

    organization = forms.ModelChoiceField(queryset=Organization.objects.none())
    manufacturer = forms.CharField(max_length=100, help_text="E.g. “Elsys”.")
    name = forms.CharField(max_length=100, help_text="E.g. “ERS CO2”.")
    protocol = forms.ChoiceField(choices=Protocol.choices, initial=Protocol.MQTT)
    codec = forms.ChoiceField(
        choices=codec_choices,
        required=False,
        help_text="Reads the devices' binary LoRaWAN frames (docs/codecs.md).",
    )
    quantities = forms.ModelMultipleChoiceField(
        queryset=Quantity.objects.order_by("key"),
        to_field_name="key",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="What it measures.",
    )
    sampling_interval = forms.IntegerField(
        min_value=1,
        initial=300,
        label="Seconds between messages",
        help_text="Expected interval; device health counts on it.",
    )

    def __init__(self, data=None, *, request, instance: NodeModel | None = None, **kwargs):
        initial = initial_of(instance, self.NAMES)
        if instance is not None:
            initial["quantities"] = list(instance.quantities.values_list("key", flat=True))
        kwargs.setdefault("initial", initial)
        super().__init__(data, request=request, instance=instance, **kwargs)
        if instance is None:
            offer_owned_organizations(self, request.user)
        else:  # a model stays in its organization here (as a node does)
            del self.fields["organization"]

    def api_data(self) -> dict[str, Any]:
        data = super().api_data()
        data["quantities"] = [q.key for q in self.cleaned_data.get("quantities") or []]
        return data
