"""The management forms: sites, rooms and nodes (installations: installation_forms.py).

Fields mirror the API's; validation is the API serializers' (``ApiForm``).
"""

from typing import Any

from django import forms
from django.db import models

from sensorgrid import storable
from sensorgrid.dashboard.manage.access import owned_organizations
from sensorgrid.dashboard.manage.api_form import ApiForm, OwnedChoiceField
from sensorgrid.inventory.api.serializers import NodeSerializer, RoomSerializer, SiteSerializer
from sensorgrid.inventory.models import Node, NodeModel, Room, Site
from sensorgrid.tenancy.models import Organization


def initial_of(instance: models.Model | None, names: list[str]) -> dict[str, Any]:
    """The current values of ``instance`` as a form's initial data (rows as ids)."""
    if instance is None:
        return {}
    initial = {}
    for name in names:
        value = getattr(instance, name)
        initial[name] = value.pk if isinstance(value, models.Model) else value
    return initial


def offer_owned_organizations(form: forms.Form, user) -> bool:
    """Restrict ``form``'s organization field to the user's; whether he owns several."""
    owned = owned_organizations(user)
    field = form.fields["organization"]
    assert isinstance(field, forms.ModelChoiceField)
    field.queryset = owned
    several = owned.count() > 1
    if not several and owned.exists() and "organization" not in form.initial:
        form.initial["organization"] = owned.first().pk
    return several


class SiteForm(ApiForm):
    serializer_class = SiteSerializer
    NAMES = ["name", "address", "latitude", "longitude"]

    organization = forms.ModelChoiceField(queryset=Organization.objects.none())
    name = forms.CharField(max_length=200, help_text="E.g. “Riverside School”.")
    address = forms.CharField(max_length=300, required=False)
    latitude = forms.FloatField(
        required=False, help_text="WGS 84 degrees, e.g. 52.52; for the map."
    )
    longitude = forms.FloatField(required=False, help_text="WGS 84 degrees, e.g. 13.40.")

    def __init__(self, data=None, *, request, instance: Site | None = None, **kwargs) -> None:
        kwargs.setdefault("initial", initial_of(instance, self.NAMES))
        super().__init__(data, request=request, instance=instance, **kwargs)
        if instance is None:
            offer_owned_organizations(self, request.user)
        else:  # a site stays in its organization here (the API can move it)
            del self.fields["organization"]


class RoomForm(ApiForm):
    serializer_class = RoomSerializer
    NAMES = ["name", "floor", "outdoor", "area", "height", "max_occupancy"]

    name = forms.CharField(max_length=200, help_text="E.g. “Classroom 2”.")
    floor = forms.IntegerField(
        required=False, help_text="0 the ground floor, 1 the first upper floor, -1 a basement."
    )
    outdoor = forms.BooleanField(
        required=False,
        label="Outdoors",
        help_text="A schoolyard, a roof terrace: no indoor-air traffic light for its CO2.",
    )
    area = forms.FloatField(required=False, label="Area (m²)", help_text="Floor area.")
    height = forms.FloatField(required=False, label="Height (m)")
    max_occupancy = forms.IntegerField(required=False, label="Up to how many people")

    def __init__(
        self, data=None, *, request, site: Site, instance: Room | None = None, **kwargs
    ) -> None:
        kwargs.setdefault("initial", initial_of(instance, self.NAMES))
        super().__init__(data, request=request, instance=instance, **kwargs)
        self.site = site

    def api_data(self) -> dict[str, Any]:
        data = super().api_data()
        if self.instance is None:
            data["site"] = self.site.pk
        return data


def offer_models(form: forms.Form, user, several: bool) -> None:
    field = form.fields["model"]
    assert isinstance(field, OwnedChoiceField)
    field.queryset = (
        NodeModel.objects.referable_by(user)
        .select_related("organization")
        .order_by("manufacturer", "name", "pk")
    )
    field.with_organization = several


class EditableJSONField(forms.JSONField):
    """A JSON textarea that can show back what it refused: Django writes the parsed value
    with ``ensure_ascii=False``, so a ``\\ud800`` escape the user typed became a lone
    surrogate in the page, which no response can encode (a 500). It is written back as
    the escape the user typed; the serializer's validator names the problem."""

    def prepare_value(self, value):
        return storable.escaped(super().prepare_value(value))


class NodeForm(ApiForm):
    """Register a node (the credential is issued in the same transaction) or change it."""

    serializer_class = NodeSerializer
    NAMES = ["device_id", "alias", "model", "sampling_interval", "metadata"]

    organization = forms.ModelChoiceField(queryset=Organization.objects.none())
    alias = forms.CharField(
        max_length=200, required=False, label="Name", help_text="E.g. “Classroom 2 monitor”."
    )
    device_id = forms.CharField(
        max_length=64,
        label="Device id",
        help_text="What the device sends as its id, e.g. a LoRaWAN DevEUI "
        "(70b3d57ed0000001) or a serial number; unique in the organization.",
    )
    model = OwnedChoiceField(
        queryset=NodeModel.objects.none(),
        required=False,
        empty_label="(none)",
        help_text="What it measures and how it talks; the shared catalogue or your own.",
    )
    sampling_interval = forms.IntegerField(
        required=False,
        min_value=1,
        label="Seconds between messages",
        help_text="Overrides the model's; device health counts on it. Empty: the model's.",
    )
    metadata = EditableJSONField(
        required=False,
        initial=dict,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text='A JSON object of your own notes, e.g. {"serial": "A-17"}.',
    )

    def __init__(self, data=None, *, request, instance: Node | None = None, **kwargs) -> None:
        kwargs.setdefault("initial", initial_of(instance, self.NAMES))
        super().__init__(data, request=request, instance=instance, **kwargs)
        self.credential: str | None = None
        if instance is None:
            several = offer_owned_organizations(self, request.user)
        else:  # a node never moves to another organization (as in the API)
            del self.fields["organization"]
            several = owned_organizations(request.user).count() > 1
        offer_models(self, request.user, several)

    def api_data(self) -> dict[str, Any]:
        data = super().api_data()
        if data.get("metadata") is None:
            data["metadata"] = {}
        return data

    def after_save(self, obj: models.Model) -> None:
        if self.instance is None:  # new: its credential, shown once (as the API's create)
            assert isinstance(obj, Node)
            self.credential = obj.issue_credential()
            obj.save(update_fields=["credential_digest"])
