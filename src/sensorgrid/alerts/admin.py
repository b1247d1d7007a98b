from django.contrib import admin

from sensorgrid.alerts.models import Alert, AlertRule, Channel, Delivery, Forwarder


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "kind", "enabled"]
    list_filter = ["kind", "enabled"]


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "kind", "scope", "quantity", "severity", "enabled"]
    list_filter = ["kind", "scope", "severity", "enabled"]
    filter_horizontal = ["channels"]


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["message", "organization", "node", "severity", "opened_at", "resolved_at"]
    list_filter = ["severity"]
    date_hierarchy = "opened_at"
    raw_id_fields = ["node", "rule", "acknowledged_by"]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["event", "channel", "status", "attempts", "next_attempt_at", "created_at"]
    list_filter = ["status", "event"]
    readonly_fields = ["idempotency_key", "claim"]
    raw_id_fields = ["alert", "forwarder"]


@admin.register(Forwarder)
class ForwarderAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "channel", "enabled", "cursor_ts", "last_run_at"]
