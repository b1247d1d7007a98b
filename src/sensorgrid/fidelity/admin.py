from django.contrib import admin

from sensorgrid.fidelity.models import NodeStatusChange
from sensorgrid.tenancy.admin import TenantAdmin


@admin.register(NodeStatusChange)
class NodeStatusChangeAdmin(TenantAdmin):
    """Health history, read only: the worker and the ingest hook write it."""

    list_display = ["at", "node", "from_status", "to_status", "recorded_at"]
    list_filter = ["to_status", "from_status"]
    search_fields = ["node__device_id", "node__alias"]
    date_hierarchy = "at"
    list_select_related = ["node"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
