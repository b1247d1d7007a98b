from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied

from sensorgrid.tenancy.models import Membership, Organization, User
from sensorgrid.tenancy.scoping import Action, TenantQuerySet, member_organizations


class TenantAdmin(admin.ModelAdmin):
    """Admin scoped like the API: staff see their organizations, owners change them.

    Superusers see everything. Tenancy, not Django's per-model permissions, decides
    what a staff member may do, so nobody has to hand out permissions per model.
    """

    #: Relations that may point at anything the user can *see* (shared catalogues);
    #: every other tenant relation must point at something the user may change.
    visible_relations: tuple[str, ...] = ()

    def get_queryset(self, request):
        return self.model._default_manager.for_user(request.user, Action.VIEW)

    def has_module_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request) -> bool:
        return self.has_module_permission(request) and (
            request.user.is_superuser or member_organizations(request.user, Action.CHANGE).exists()
        )

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is None:
            return self.has_add_permission(request)
        return self.has_module_permission(request) and self.model._default_manager.can(
            request.user, Action.CHANGE, obj
        )

    def has_delete_permission(self, request, obj=None) -> bool:
        return self.has_change_permission(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        queryset = db_field.related_model._default_manager.all()
        if isinstance(queryset, TenantQuerySet):
            action = Action.VIEW if db_field.name in self.visible_relations else Action.CHANGE
            kwargs["queryset"] = queryset.for_user(request.user, action)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not self.model._default_manager.can(request.user, Action.CHANGE, obj):
            raise PermissionDenied("Only owners of the organization may change it.")


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


class ReadOnlyTenantAdmin(TenantAdmin):
    """Rows the platform writes (receptions, health history): looked at, never edited."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Organization)
class OrganizationAdmin(TenantAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]

    def has_add_permission(self, request) -> bool:
        # A new organization has no owner yet; administrators create them.
        return request.user.is_superuser


@admin.register(Membership)
class MembershipAdmin(TenantAdmin):
    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "organization__name"]
    autocomplete_fields = ["user"]


@admin.register(User)
class SensorGridUserAdmin(UserAdmin):
    pass
