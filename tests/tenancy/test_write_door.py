"""The write door of TenantModelViewSet holds even when a serializer offers too much.

A serializer whose organization field accepts *any* organization (as the membership
serializer effectively did through public installations) must still not let a write
land in an organization the user may not change: the view set checks before saving
and again inside the transaction.
"""

import pytest
from rest_framework import serializers
from rest_framework.test import APIRequestFactory, force_authenticate

from sensorgrid.inventory.models import Room, Site
from sensorgrid.tenancy.models import Organization
from sensorgrid.tenancy.viewsets import TenantModelViewSet


class LaxSiteSerializer(serializers.ModelSerializer):
    organization = serializers.PrimaryKeyRelatedField(queryset=Organization.objects.all())

    class Meta:
        model = Site
        fields = ["id", "organization", "name"]


class LaxRoomSerializer(serializers.ModelSerializer):
    site = serializers.PrimaryKeyRelatedField(queryset=Site.objects.all())

    class Meta:
        model = Room
        fields = ["id", "site", "name"]


class LaxSites(TenantModelViewSet):
    model = Site
    serializer_class = LaxSiteSerializer


class LaxRooms(TenantModelViewSet):
    model = Room
    serializer_class = LaxRoomSerializer


def call(view, user, method, data, pk=None):
    factory = APIRequestFactory()
    request = getattr(factory, method)("/x/", data, format="json")
    force_authenticate(request, user=user)
    actions = {"post": "create", "patch": "partial_update"}
    kwargs = {"pk": pk} if pk else {}
    return view.as_view({method: actions[method]})(request, **kwargs)


@pytest.mark.django_db
def test_a_create_into_a_foreign_organization_is_refused_before_saving(world):
    response = call(LaxSites, world.alice, "post", {"organization": world.org_b.pk, "name": "x"})
    assert response.status_code == 403
    assert not Site.objects.filter(name="x").exists()


@pytest.mark.django_db
def test_a_create_under_a_foreign_parent_is_refused(world):
    response = call(LaxRooms, world.alice, "post", {"site": world.site_b.pk, "name": "planted"})
    assert response.status_code == 403
    assert not Room.objects.filter(name="planted").exists()


@pytest.mark.django_db
def test_moving_an_object_out_of_ones_organization_into_a_foreign_one_is_refused(world):
    response = call(
        LaxSites, world.alice, "patch", {"organization": world.org_b.pk}, pk=world.site_a.pk
    )
    assert response.status_code == 403
    world.site_a.refresh_from_db()
    assert world.site_a.organization_id == world.org_a.pk


@pytest.mark.django_db
def test_moving_a_foreign_object_into_ones_organization_is_refused(world):
    # charlie may not change org A: the old organization of the moved room counts too.
    response = call(
        LaxRooms, world.charlie, "patch", {"site": world.site_b.pk}, pk=world.public_room.pk
    )
    assert response.status_code == 403
    world.public_room.refresh_from_db()
    assert world.public_room.site_id == world.public_site.pk


@pytest.mark.django_db
def test_an_owner_still_writes_through_the_door(world):
    response = call(LaxRooms, world.alice, "post", {"site": world.site_a.pk, "name": "fine"})
    assert response.status_code == 201
    assert Room.objects.filter(name="fine", site=world.site_a).exists()
