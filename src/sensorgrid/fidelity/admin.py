from django.contrib import admin

from sensorgrid.fidelity.models import NodeStatusChange
from sensorgrid.tenancy.admin import ReadOnlyTenantAdmin


@admin.register(NodeStatusChange)
class NodeStatusChangeAdmin(ReadOnlyTenantAdmin):
    """Health history, read only: the worker and the ingest hook write it."""

    list_display = ["at", "node", "from_status", "to_status", "recorded_at"]
    list_filter = ["to_status", "from_status"]
    search_fields = ["node__device_id", "node__alias"]
    date_hierarchy = "at"
    list_select_related = ["node"]
