from django.contrib import admin
from django.http import HttpRequest

from sensorgrid.ingest.models import IngestKey, MqttRoute
from sensorgrid.tenancy.admin import TenantAdmin


@admin.register(IngestKey)
class IngestKeyAdmin(TenantAdmin):
    """Keys are created through the API (the secret is shown once there)."""

    list_display = ["name", "organization", "created_at", "last_used_at"]
    readonly_fields = ["created_at", "last_used_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(MqttRoute)
class MqttRouteAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # not generic at run time
    """Platform-wide: only users with the model permissions (superusers) see it."""

    list_display = ["pattern", "decoder", "organization", "enabled", "position", "description"]
    list_editable = ["enabled", "position"]
    list_filter = ["enabled", "decoder", "organization"]
