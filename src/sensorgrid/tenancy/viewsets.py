"""The base of every tenant-owned API resource."""

from typing import ClassVar

from django.db import models, transaction
from rest_framework import generics, viewsets
from rest_framework.exceptions import PermissionDenied

from sensorgrid.tenancy.scoping import (
    Action,
    TenantQuerySet,
    changeable_organizations,
    target_organization_id,
)

OWNER_ONLY = (
    "You may see this but not change it: changes need the owner role in its organization "
    "(the shared catalogue and global registries: an administrator)."
)


class TenantRows(generics.GenericAPIView):
    """A view of one tenant-owned ``model``: its rows, restricted by ``for_user``."""

    #: the model the view serves; its default manager is a ``TenantQuerySet``
    model: ClassVar[type[models.Model]]

    def tenant_rows(self) -> TenantQuerySet:
        """Every row of ``model``, to restrict: the tenancy rules live on this queryset."""
        rows = self.model._default_manager.all()
        if not isinstance(rows, TenantQuerySet):  # a model without tenancy rules: a bug
            raise TypeError(f"{self.model.__name__} has no TenantQuerySet manager")
        return rows

    def get_queryset(self) -> TenantQuerySet:
        return self.tenant_rows().for_user(self.request.user, Action.VIEW)

    def can_change(self, obj: models.Model) -> bool:
        return self.tenant_rows().can(self.request.user, Action.CHANGE, obj)


class TenantModelViewSet(TenantRows, viewsets.ModelViewSet):
    """CRUD whose queryset is always restricted by ``for_user``.

    Foreign objects are simply absent (404); visible objects the user may not
    change give 403. Every write passes one door: the user's right to change the
    organization is checked before saving (the one the validated data names or
    reaches through a parent) and again inside the transaction after saving, for
    both the old and the new organization of a moved object. The second check sees
    the rows as stored, so neither a serializer slip nor a concurrent change of
    memberships lets a write land in an organization the user may not change.
    """

    def check_object_permissions(self, request, obj):
        super().check_object_permissions(request, obj)
        if request.method not in ("GET", "HEAD", "OPTIONS") and not self.can_change(obj):
            raise PermissionDenied(OWNER_ONLY)

    # -- the door -------------------------------------------------------------------------

    def require_change_of(self, organization_ids) -> None:
        if not changeable_organizations(self.request.user, organization_ids):
            raise PermissionDenied(OWNER_ONLY)

    def stored_organizations(self, instance) -> set[int | None]:
        """The organization of ``instance`` as the database has it now."""
        return self.tenant_rows().filter(pk=instance.pk).organization_ids()

    def target_organizations(self, serializer) -> set[int | None]:
        """The organization the validated data puts the object into (none for a new one)."""
        try:
            return {
                target_organization_id(self.model, serializer.validated_data, serializer.instance)
            }
        except LookupError:  # a new organization: anybody may found one
            return set()

    def perform_create(self, serializer):
        self.require_change_of(self.target_organizations(serializer))
        with transaction.atomic():
            instance = serializer.save()
            self.after_create(instance)
            self.require_change_of(self.stored_organizations(instance))

    def after_create(self, instance) -> None:
        """Hook for work that belongs to creating (inside the transaction)."""

    def perform_update(self, serializer):
        old = self.stored_organizations(serializer.instance)
        self.require_change_of(old | self.target_organizations(serializer))
        with transaction.atomic():
            instance = serializer.save()
            self.require_change_of(old | self.stored_organizations(instance))

    def perform_destroy(self, instance):
        with transaction.atomic():
            self.require_change_of(self.stored_organizations(instance))
            instance.delete()
