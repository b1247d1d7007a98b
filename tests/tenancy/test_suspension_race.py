"""An owner's edit that loaded its organization before an operator suspended it, and
saves after, keeps the suspension: owners' saves write only the fields they change
(a whole-instance save wrote ``suspended_at=None`` and queued ``enable`` for every node).
"""

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.utils import timezone

from sensorgrid.brokerauth.models import Action, BrokerChange
from sensorgrid.dashboard.manage.organization_forms import OrganizationForm
from sensorgrid.tenancy.admin import _set_suspended
from sensorgrid.tenancy.api.serializers import OrganizationSerializer
from sensorgrid.tenancy.models import Organization


def request_of(user):
    request = RequestFactory().post("/")
    request.user = user
    return request


def suspend_meanwhile(world) -> Organization:
    """The owner's stale copy; then the operator suspends through the admin action."""
    stale = Organization.objects.get(pk=world.org_a.pk)
    model_admin = admin.site._registry[Organization]
    request = request_of(world.root)
    request._messages = type("M", (), {"add": lambda *a, **k: None})()
    _set_suspended(model_admin, request, Organization.objects.filter(pk=stale.pk), timezone.now())
    assert Organization.objects.get(pk=stale.pk).suspended and not stale.suspended
    return stale


def still_suspended(world, name: str) -> None:
    org = Organization.objects.get(pk=world.org_a.pk)
    assert org.name == name  # the edit itself was saved
    assert org.suspended


def test_the_api_serializer_keeps_the_suspension(world):
    stale = suspend_meanwhile(world)
    serializer = OrganizationSerializer(
        stale, data={"name": "Renamed"}, partial=True, context={"request": request_of(world.alice)}
    )
    assert serializer.is_valid(), serializer.errors
    serializer.save()
    still_suspended(world, "Renamed")


def test_the_dashboard_form_keeps_the_suspension(world):
    stale = suspend_meanwhile(world)
    form = OrganizationForm(
        {"name": "Renamed", "raw_retention_days": "30", "time_zone": stale.time_zone},
        request=request_of(world.alice),
        instance=stale,
    )
    assert form.is_valid(), form.errors
    form.save()
    still_suspended(world, "Renamed")


def test_the_admin_change_form_keeps_the_suspension(world):
    world.alice.is_staff = True
    world.alice.save()
    stale = suspend_meanwhile(world)
    model_admin = admin.site._registry[Organization]
    request = request_of(world.alice)
    form_class = model_admin.get_form(request, stale, change=True)
    data = {"name": "Renamed", "slug": stale.slug, "time_zone": stale.time_zone}
    form = form_class(data, instance=stale)
    assert form.is_valid(), form.errors
    model_admin.save_model(request, form.save(commit=False), form, True)
    still_suspended(world, "Renamed")


def test_no_enable_is_queued_for_the_broker(world, settings):
    settings.SENSORGRID_BROKER_AUTH = "dynsec"
    settings.SENSORGRID_BROKER_APPLY_AT_ONCE = False
    world.node_a.issue_credential()
    world.node_a.save(update_fields=["credential_digest"])
    stale = suspend_meanwhile(world)
    assert list(BrokerChange.objects.filter(action=Action.DISABLE)) != []
    BrokerChange.objects.all().delete()
    serializer = OrganizationSerializer(
        stale, data={"name": "Renamed"}, partial=True, context={"request": request_of(world.alice)}
    )
    assert serializer.is_valid(), serializer.errors
    serializer.save()
    still_suspended(world, "Renamed")
    assert not BrokerChange.objects.filter(action=Action.ENABLE).exists()


@pytest.mark.parametrize("suspended", [True, False])
def test_the_operator_path_still_writes_it(world, client_for, suspended):
    if not suspended:
        suspend_meanwhile(world)
    response = client_for(world.root).patch(
        f"/api/v1/organizations/{world.org_a.pk}/", {"suspended": suspended}, format="json"
    )
    assert response.status_code == 200, response.content
    assert Organization.objects.get(pk=world.org_a.pk).suspended is suspended
