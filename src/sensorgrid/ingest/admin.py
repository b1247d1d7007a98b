from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from sensorgrid.ingest.models import IngestKey, MqttRoute
from sensorgrid.ingest.replay import replay
from sensorgrid.telemetry.models import DeadLetter
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


@admin.register(DeadLetter)
class DeadLetterAdmin(TenantAdmin):
    """Telemetry's dead letters, administered here since the replay action runs the pipeline."""

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

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # dead letters come from the pipeline only

    def get_readonly_fields(self, request: HttpRequest, obj: DeadLetter | None = None) -> list[str]:
        return [field.name for field in self.model._meta.fields]

    @admin.action(description="Replay through the ingest pipeline")
    def replay_selected(self, request: HttpRequest, queryset: QuerySet[DeadLetter]) -> None:
        stored = total = 0
        for letter in queryset.filter(resolved_at__isnull=True):
            if self.has_change_permission(request, letter):
                stored += replay(letter).stored
                total += 1
        self.message_user(request, f"Replayed {total}: {stored} stored.", level=messages.SUCCESS)
