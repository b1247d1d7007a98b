"""Admin pages of telemetry rows.

DeadLetter's page, with its replay action, is in ``sensorgrid.ingest.admin``: replaying
runs the ingest pipeline, and telemetry imports nothing of ingest.
"""

from django.contrib import admin

from sensorgrid.telemetry.models import Reception
from sensorgrid.tenancy.admin import ReadOnlyTenantAdmin


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
