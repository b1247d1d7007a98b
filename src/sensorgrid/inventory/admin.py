from django.contrib import admin, messages

from sensorgrid.inventory.models import Installation, Node, NodeModel, Quantity, Room, Site
from sensorgrid.tenancy.admin import TenantAdmin


@admin.register(Quantity)
class QuantityAdmin(admin.ModelAdmin):
    list_display = ["key", "name", "unit", "min_value", "max_value"]
    search_fields = ["key", "name"]

    def has_module_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)


class RoomInline(admin.TabularInline):
    model = Room
    extra = 0


@admin.register(Site)
class SiteAdmin(TenantAdmin):
    list_display = ["name", "organization", "address", "latitude", "longitude"]
    list_filter = [("organization", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "address"]
    inlines = [RoomInline]


@admin.register(Room)
class RoomAdmin(TenantAdmin):
    list_display = ["name", "site", "floor", "outdoor", "area", "height", "max_occupancy"]
    list_filter = ["outdoor"]
    search_fields = ["name", "site__name"]


@admin.register(NodeModel)
class NodeModelAdmin(TenantAdmin):
    list_display = ["manufacturer", "name", "protocol", "codec", "sampling_interval"]
    list_filter = ["protocol"]
    search_fields = ["manufacturer", "name"]
    filter_horizontal = ["quantities"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "organization" and not request.user.is_superuser:
            field.required = True  # only administrators curate the shared catalogue
        return field


@admin.register(Node)
class NodeAdmin(TenantAdmin):
    list_display = ["device_id", "alias", "organization", "model", "status", "last_seen"]
    list_filter = [
        "status",
        ("organization", admin.RelatedOnlyFieldListFilter),
        ("model", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["device_id", "alias"]
    readonly_fields = ["last_seen", "status", "status_since", "created_at"]
    visible_relations = ("model",)
    actions = ["issue_credentials"]

    def get_readonly_fields(self, request, obj=None):
        # A node never moves between organizations (its history would follow it).
        return [*self.readonly_fields, "organization"] if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        credential = None if change else obj.issue_credential()
        super().save_model(request, obj, form, change)
        if credential:
            self.message_user(
                request,
                f"Ingest credential of {obj.device_id} (shown only now): {credential}",
                level=messages.WARNING,
            )

    @admin.action(description="Issue new ingest credentials (shown once)")
    def issue_credentials(self, request, queryset):
        for node in queryset:
            if not self.has_change_permission(request, node):
                continue
            credential = node.issue_credential()
            node.save(update_fields=["credential_digest"])
            self.message_user(request, f"{node.device_id}: {credential}", level=messages.WARNING)


@admin.register(Installation)
class InstallationAdmin(TenantAdmin):
    list_display = ["node", "room", "start", "end", "is_public"]
    list_filter = ["is_public"]
    search_fields = ["node__device_id", "room__name"]
