"""Placing a node in a room for a period, moving it, ending it.

Every step goes through ``InstallationSerializer`` (no overlapping periods, the room in
the node's organization, the end after the start), as in the API. Times are UTC.
"""

from datetime import datetime
from typing import Any

from django import forms
from django.db import transaction
from django.utils import timezone

from sensorgrid.dashboard.manage.api_form import ApiForm, OwnedChoiceField, messages
from sensorgrid.inventory.api.serializers import InstallationSerializer
from sensorgrid.inventory.models import Installation, Node, Room
from sensorgrid.tenancy.scoping import Action

#: ``<input type="datetime-local">`` sends minutes (seconds when the user typed them).
LOCAL_INPUT = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]


def moment(label: str, required: bool = True, help_text: str = "") -> forms.DateTimeField:
    return forms.DateTimeField(
        label=f"{label} (UTC)",
        required=required,
        input_formats=LOCAL_INPUT,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_INPUT[0]),
        help_text=help_text,
    )


def this_minute() -> datetime:
    return timezone.now().replace(second=0, microsecond=0)


def room_field(node: Node, user) -> OwnedChoiceField:
    """The rooms of the node's organization that ``user`` may put things into."""
    rooms = (
        Room.objects.for_user(user, Action.CHANGE)
        .filter(site__organization_id=node.organization_id)
        .select_related("site")
        .order_by("site__name", "name", "pk")
    )
    return OwnedChoiceField(queryset=rooms, help_text="Rooms of the node's organization.")


class InstallForm(ApiForm):
    """A new installation of ``node``: a room, from, optionally until, public or not."""

    serializer_class = InstallationSerializer
    prefix = "install"  # three forms share the node's settings page

    start = moment("From")
    end = moment("Until", required=False, help_text="Empty: until it is moved or ended.")
    is_public = forms.BooleanField(
        required=False,
        label="Public",
        help_text="Publishes the room, site, organization name and this period's values "
        "on /public/ for everybody.",
    )

    def __init__(self, data=None, *, request, node: Node, **kwargs) -> None:
        kwargs.setdefault("initial", {"start": this_minute()})
        super().__init__(data, request=request, **kwargs)
        self.node = node
        self.fields = {"room": room_field(node, request.user), **self.fields}

    def api_data(self) -> dict[str, Any]:
        return {**super().api_data(), "node": self.node.pk}


class _Refused(Exception):
    def __init__(self, errors: dict) -> None:
        super().__init__("refused")
        self.errors = errors


class MoveForm(forms.Form):
    """End the current installation at a moment and start one in another room then."""

    prefix = "move"

    at = moment("Moved at")
    is_public = forms.BooleanField(
        required=False,
        label="Public in the new room",
        help_text=InstallForm.base_fields["is_public"].help_text,
    )

    def __init__(self, data=None, *, request, current: Installation, **kwargs) -> None:
        kwargs.setdefault("initial", {"at": this_minute(), "is_public": current.is_public})
        super().__init__(data, **{"label_suffix": "", **kwargs})
        self.request = request
        self.current = current
        self.fields = {"room": room_field(current.node, request.user), **self.fields}

    def move(self) -> Installation | None:
        """The new installation, or None with the reasons added to the form's errors."""
        at = self.cleaned_data["at"]
        context = {"request": self.request}
        try:
            with transaction.atomic():  # both or neither
                ending = InstallationSerializer(
                    self.current, data={"end": at}, partial=True, context=context
                )
                if not ending.is_valid():
                    raise _Refused({"at": ending.errors.get("end", ending.errors)})
                ending.save()
                starting = InstallationSerializer(
                    data={
                        "node": self.current.node_id,
                        "room": self.cleaned_data["room"].pk,
                        "start": at,
                        "is_public": self.cleaned_data["is_public"],
                    },
                    context=context,
                )
                if not starting.is_valid():
                    raise _Refused(starting.errors)
                installation = starting.save()
        except _Refused as refused:
            for name, problem in refused.errors.items():
                field = "at" if name in ("start", "end") else name
                for message in messages(problem):
                    self.add_error(field if field in self.fields else None, message)
            return None
        return installation


class EndForm(ApiForm):
    """End an installation: the node is no longer there from this moment."""

    serializer_class = InstallationSerializer
    field_of = {"start": "end"}
    prefix = "end"

    end = moment("Ended at")

    def __init__(self, data=None, *, request, instance: Installation, **kwargs) -> None:
        kwargs.setdefault("initial", {"end": this_minute()})
        super().__init__(data, request=request, instance=instance, **kwargs)
