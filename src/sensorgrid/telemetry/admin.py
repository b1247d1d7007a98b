from django.contrib import admin, messages

from sensorgrid.ingest.replay import replay
from sensorgrid.telemetry.models import DeadLetter, Reception
from sensorgrid.tenancy.admin import ReadOnlyTenantAdmin, TenantAdmin


@admin.register(DeadLetter)
class DeadLetterAdmin(TenantAdmin):
    list_display = [
        "received_at",
        "source",
        "reason",
        "device_id",
        "topic",
        "count",
        "last_received_at",
        "credential",
        "resolved_at",
    ]
    list_filter = [
        "reason",
        "source",
        "credential",
        ("resolved_at", admin.EmptyFieldListFilter),
    ]
    search_fields = ["device_id", "topic", "detail"]
    date_hierarchy = "received_at"
    actions = ["replay_selected"]

    def has_add_permission(self, request) -> bool:
        return False  # dead letters come from the pipeline only

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    @admin.action(description="Replay through the ingest pipeline")
    def replay_selected(self, request, queryset):
        stored = total = 0
        for letter in queryset.filter(resolved_at__isnull=True):
            if self.has_change_permission(request, letter):
                stored += replay(letter).stored
                total += 1
        self.message_user(request, f"Replayed {total}: {stored} stored.", level=messages.SUCCESS)


@admin.register(Reception)
class ReceptionAdmin(ReadOnlyTenantAdmin):
    """LoRaWAN receptions, read only: they come from the pipeline."""

    list_display = [
        "ts",
        "node",
        "gateway_id",
        "rssi",
        "snr",
        "frequency",
        "spreading_factor",
        "frame_counter",
    ]
    list_select_related = ["node"]
    search_fields = ["gateway_id", "node__device_id", "node__alias"]
    date_hierarchy = "ts"
