"""The base of every tenant-owned API resource."""

from django.db import transaction
from rest_framework import viewsets
from rest_framework.exceptions import PermissionDenied

from sensorgrid.tenancy.scoping import Action

OWNER_ONLY = (
    "You may see this but not change it: changes need the owner role in its organization "
    "(the shared catalogue and global registries: an administrator)."
)


class TenantModelViewSet(viewsets.ModelViewSet):
    """CRUD whose queryset is always restricted by ``for_user``.

    Foreign objects are simply absent (404); visible objects the user may not
    change give 403. Writes are checked after saving, inside the transaction, so
    that moving an object into an organization one cannot change is refused too.
    """

    model = None

    def get_queryset(self):
        return self.model.objects.for_user(self.request.user, Action.VIEW)

    def check_object_permissions(self, request, obj):
        super().check_object_permissions(request, obj)
        if request.method not in ("GET", "HEAD", "OPTIONS") and not self.can_change(obj):
            raise PermissionDenied(OWNER_ONLY)

    def can_change(self, obj) -> bool:
        return self.model.objects.can(self.request.user, Action.CHANGE, obj)

    def perform_create(self, serializer):
        with transaction.atomic():
            instance = serializer.save()
            self.after_create(instance)
            if not self.can_change(instance):
                raise PermissionDenied(OWNER_ONLY)

    def after_create(self, instance) -> None:
        """Hook for work that belongs to creating (inside the transaction)."""

    def perform_update(self, serializer):
        with transaction.atomic():
            instance = serializer.save()
            if not self.can_change(instance):
                raise PermissionDenied(OWNER_ONLY)
