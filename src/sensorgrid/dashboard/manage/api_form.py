"""A dashboard form whose rules are the API's: input is checked by a serializer.

The form only collects and converts input (choices restricted to what the user owns,
so a foreign id is an invalid choice); the serializer then decides exactly as the API
would, and its errors are shown next to the fields they concern. Saving passes the
API's door once more inside the transaction: the stored object must belong to an
organization the user may change.
"""

from typing import Any, ClassVar

from django import forms
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from rest_framework import exceptions, serializers

from sensorgrid.tenancy.scoping import changeable_organizations


def plain(value: Any) -> Any:
    """A cleaned form value as the API receives it: rows by their id."""
    if isinstance(value, models.Model):
        return value.pk
    return value


def messages(problem: Any) -> list[str]:
    if isinstance(problem, dict):
        return [f"{key}: {m}" for key, value in problem.items() for m in messages(value)]
    if isinstance(problem, list | tuple):
        return [m for item in problem for m in messages(item)]
    return [str(problem)]


class OwnedChoiceField(forms.ModelChoiceField):
    """A choice among rows of organizations; ``with_organization`` names each row's."""

    #: set when the user owns several organizations: the same names may exist in two
    with_organization = False

    def label_from_instance(self, obj: Any) -> str:
        if self.with_organization and getattr(obj, "organization", None) is not None:
            return f"{obj} · {obj.organization.name}"
        return super().label_from_instance(obj)


class ApiForm(forms.Form):
    serializer_class: ClassVar[type[serializers.ModelSerializer]]
    #: serializer field → form field, where the names differ
    field_of: ClassVar[dict[str, str]] = {}

    def __init__(self, data=None, *, request, instance=None, **kwargs) -> None:
        super().__init__(data, **{"label_suffix": "", **kwargs})
        self.request = request
        self.instance = instance
        self.serializer: serializers.ModelSerializer | None = None

    def api_data(self) -> dict[str, Any]:
        """What the API would be sent: the cleaned fields, rows as ids."""
        return {name: plain(value) for name, value in self.cleaned_data.items()}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        serializer = self.serializer_class(
            self.instance,
            data=self.api_data(),
            partial=self.instance is not None,
            context={"request": self.request},
        )
        try:
            valid = serializer.is_valid()
        except exceptions.PermissionDenied as denied:  # seen, not owned: as the API says
            detail = denied.detail
            if isinstance(detail, dict):
                detail = detail.get("detail", detail)
            self.add_error(None, " ".join(messages(detail)))
            return data
        if valid:
            self.serializer = serializer
        else:
            self.add_api_errors(serializer.errors)
        return data

    def add_api_errors(self, errors: dict) -> None:
        for name, problem in errors.items():
            field = self.field_of.get(name, name)
            for message in messages(problem):
                self.add_error(field if field in self.fields else None, message)

    def save(self) -> models.Model:
        if self.serializer is None:
            raise ValueError("save() needs a form that validated (is_valid() first)")
        with transaction.atomic():
            obj = self.serializer.save()
            self.after_save(obj)
            stored = type(obj)._default_manager.filter(pk=obj.pk).organization_ids()
            if not changeable_organizations(self.request.user, stored):
                raise PermissionDenied("That needs the owner role in the organization.")
        return obj

    def after_save(self, obj: models.Model) -> None:
        """Work that belongs to saving, inside its transaction."""
