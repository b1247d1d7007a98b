"""Alerts in the admin, scoped like the API: staff see their organizations' rows only."""

from django import forms
from django.contrib import admin

from sensorgrid.alerts.channels import public_config, validate_config
from sensorgrid.alerts.models import Alert, AlertRule, Channel, Delivery, Forwarder
from sensorgrid.tenancy.admin import ReadOnlyTenantAdmin, TenantAdmin


class ChannelForm(forms.ModelForm):
    """The configuration as the API shows and takes it: secrets write-only (an MQTT
    password left out is kept), addresses checked by the outbound guard."""

    class Meta:
        model = Channel
        fields = ["organization", "name", "kind", "config", "enabled"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["config"] = public_config(self.instance.kind, self.instance.config)

    def clean(self):
        cleaned = super().clean()
        previous = self.instance.config if self.instance.pk else None
        try:
            cleaned["config"] = validate_config(
                cleaned.get("kind"), cleaned.get("config"), previous
            )
        except ValueError as exc:
            self.add_error("config", str(exc))
        return cleaned


@admin.register(Channel)
class ChannelAdmin(TenantAdmin):
    form = ChannelForm
    list_display = ["name", "organization", "kind", "enabled"]
    list_filter = ["kind", "enabled"]


@admin.register(AlertRule)
class AlertRuleAdmin(TenantAdmin):
    list_display = ["name", "organization", "kind", "scope", "quantity", "severity", "enabled"]
    list_filter = ["kind", "scope", "severity", "enabled"]
    filter_horizontal = ["channels"]


@admin.register(Alert)
class AlertAdmin(ReadOnlyTenantAdmin):
    list_display = ["message", "organization", "node", "severity", "opened_at", "resolved_at"]
    list_filter = ["severity"]
    date_hierarchy = "opened_at"
    raw_id_fields = ["node", "rule", "acknowledged_by"]


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyTenantAdmin):
    list_display = ["event", "channel", "status", "attempts", "next_attempt_at", "created_at"]
    list_filter = ["status", "event"]
    readonly_fields = ["idempotency_key", "claim"]
    raw_id_fields = ["alert", "forwarder"]


@admin.register(Forwarder)
class ForwarderAdmin(TenantAdmin):
    list_display = ["name", "organization", "channel", "enabled", "cursor_ts", "last_run_at"]
