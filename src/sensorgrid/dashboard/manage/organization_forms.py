"""Forms of organizations, their members, invitations and ingest keys.

Organization, role and ingest-key forms validate through the API's serializers
(``ApiForm``); the invitation and the new account are the dashboard's own.
"""

from typing import Any

from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.db import models
from django.utils.text import slugify

from sensorgrid.dashboard.manage.api_form import ApiForm
from sensorgrid.dashboard.manage.forms import initial_of
from sensorgrid.ingest.api.keys import IngestKeySerializer
from sensorgrid.ingest.models import IngestKey
from sensorgrid.tenancy import time_zones
from sensorgrid.tenancy.api.serializers import MembershipSerializer, OrganizationSerializer
from sensorgrid.tenancy.api.views import SELF_GRANT
from sensorgrid.tenancy.models import Membership, Organization, Role, User
from sensorgrid.tenancy.time_zones import default_time_zone


def free_slug(name: str) -> str:
    """A slug for ``name`` that no organization has yet (name-2, name-3, … otherwise)."""
    base = slugify(name)[:90] or "organization"
    slug, n = base, 1
    while Organization.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


class OrganizationForm(ApiForm):
    serializer_class = OrganizationSerializer
    NAMES = ["name", "raw_retention_days", "time_zone"]

    name = forms.CharField(max_length=200, help_text="E.g. “Riverside School District”.")
    slug = forms.SlugField(
        max_length=100,
        required=False,
        help_text="Short name in URLs and exports, unique; empty: made from the name.",
    )
    raw_retention_days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=36500,
        label="Keep raw samples (days)",
        help_text="Older raw samples are deleted; hourly and daily averages stay. "
        "Empty: keep them forever.",
    )
    time_zone = forms.ChoiceField(
        choices=time_zones.choices,
        required=False,  # not sent: the platform's for a new one, unchanged for others
        label="Time zone",
        help_text="Pages and charts of this organization show times in it.",
    )

    def __init__(self, data=None, *, request, instance: Organization | None = None, **kwargs):
        kwargs.setdefault(
            "initial", initial_of(instance, self.NAMES) or {"time_zone": default_time_zone()}
        )
        super().__init__(data, request=request, instance=instance, **kwargs)
        if instance is not None:  # the slug is named in URLs, topics and exports: it stays
            del self.fields["slug"]

    def api_data(self) -> dict[str, Any]:
        data = super().api_data()
        if not data.get("time_zone"):
            data.pop("time_zone", None)
        if self.instance is None and not data.get("slug"):
            data["slug"] = free_slug(data.get("name", ""))
        return data

    def after_save(self, obj: models.Model) -> None:
        if self.instance is None:  # the creator is its first owner (as the API's create)
            assert isinstance(obj, Organization)
            Membership.objects.create(organization=obj, user=self.request.user, role=Role.OWNER)


class RoleForm(ApiForm):
    """Change a member's role; never one's own (the API's rule), never the last owner."""

    serializer_class = MembershipSerializer

    role = forms.ChoiceField(choices=Role.choices)

    def __init__(self, data=None, *, request, instance: Membership, **kwargs) -> None:
        kwargs.setdefault("initial", {"role": instance.role})
        kwargs.setdefault("prefix", f"member-{instance.pk}")
        super().__init__(data, request=request, instance=instance, **kwargs)

    def clean(self) -> dict[str, Any]:
        assert isinstance(self.instance, Membership)
        user = self.request.user
        if self.instance.user_id == user.pk and not user.is_superuser:
            self.add_error(None, SELF_GRANT)
            return self.cleaned_data
        return super().clean()


class InviteForm(forms.Form):
    email = forms.EmailField(label="E-mail address", help_text="The link is sent there.")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.INSPECTOR)

    def __init__(self, data=None, *, organization: Organization, **kwargs) -> None:
        super().__init__(data, **{"label_suffix": "", "prefix": "invite", **kwargs})
        self.organization = organization

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        if Membership.objects.filter(
            organization=self.organization, user__email__iexact=email
        ).exists():
            raise forms.ValidationError("Somebody with this address is a member already.")
        return email


class AccountForm(UserCreationForm):
    """The invited person's new account: a username and a password (validated)."""

    class Meta:
        model = User
        fields = ("username",)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **{"label_suffix": "", **kwargs})


class IngestKeyForm(ApiForm):
    serializer_class = IngestKeySerializer

    name = forms.CharField(
        max_length=100, help_text="What uses it, e.g. “TTN webhook” or “Gateway hall”."
    )

    def __init__(self, data=None, *, request, organization: Organization, **kwargs) -> None:
        super().__init__(data, request=request, **{"prefix": "key", **kwargs})
        self.organization = organization
        self.key: str | None = None

    def api_data(self) -> dict[str, Any]:
        return {**super().api_data(), "organization": self.organization.pk}

    def save(self) -> models.Model:
        assert self.serializer is not None, "save() needs a form that validated"
        holder = IngestKey()
        self.key = holder.issue()  # shown once; only its digest is stored
        self.serializer.validated_data["digest"] = holder.digest
        return super().save()
