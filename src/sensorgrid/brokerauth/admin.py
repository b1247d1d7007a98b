"""The broker outbox and the reconcile runs, for platform operators (docs/operations.md)."""

from django.contrib import admin
from django.http import HttpRequest

from sensorgrid.brokerauth.models import BrokerChange, Reconciliation


@admin.register(BrokerChange)
class BrokerChangeAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # not generic at run time
    """Platform-wide: only users with the model permissions (superusers) see it. Read only,
    the queued password never shown; a handled failed change may be deleted."""

    list_display = ["pk", "action", "username", "status", "attempts", "next_attempt_at"]
    list_filter = ["status", "action"]
    search_fields = ["username"]
    readonly_fields = [
        "username",
        "node_id",
        "action",
        "status",
        "attempts",
        "next_attempt_at",
        "claimed_until",
        "last_error",
        "created_at",
    ]
    fields = tuple(readonly_fields)  # the queued password (secret) is never shown

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Reconciliation)
class ReconciliationAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["started_at", "finished_at", "drift", "commands", "error"]
    readonly_fields = ["started_at", "finished_at", "drift", "commands", "error"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
