from rest_framework import permissions


class TenantPermission(permissions.BasePermission):
    """Reads are open (querysets are scoped); writes need a signed-in user.

    Which objects a user may write is decided by ``for_user(user, Action.CHANGE)``
    in the view set, not here.
    """

    def has_permission(self, request, view) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return bool(request.user and request.user.is_authenticated)


class ReadOnlyUnlessSuperuser(permissions.BasePermission):
    """For global registries (quantities): everybody reads, administrators write."""

    message = "Only administrators may change the global registry."

    def has_permission(self, request, view) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return bool(request.user and request.user.is_superuser)
