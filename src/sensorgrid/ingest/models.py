from django.core.exceptions import ValidationError
from django.db import models

from sensorgrid.inventory import credentials
from sensorgrid.tenancy.models import Organization
from sensorgrid.tenancy.scoping import TenantQuerySet


class IngestKeyQuerySet(TenantQuerySet):
    pass


class IngestKey(models.Model):
    """An organization-wide ingest credential: may write for any node of the organization.

    For gateways and integrations that forward many devices; a device itself should
    use its own node credential, which may write only for that node.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="ingest_keys"
    )
    name = models.CharField(max_length=100, help_text="What uses this key, e.g. 'TTN webhook'.")
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = IngestKeyQuerySet.as_manager()

    class Meta:
        ordering = ["organization_id", "name", "pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.organization})"

    def issue(self) -> str:
        """Set a new secret and return it; only its digest is stored."""
        key = credentials.new_credential(prefix="sgk_")
        self.digest = credentials.digest(key)
        return key


class MqttRoute(models.Model):
    """An admin-made route: messages on topics matching ``pattern`` go to ``decoder``.

    These rows come before the routes of the settings, so they can take over a
    topic. The ingest service reads them when it starts.
    """

    pattern = models.CharField(
        max_length=300,
        unique=True,
        help_text="MQTT topic filter; a level written {device} names the device, e.g. "
        "acme/{device}/data.",
    )
    decoder = models.SlugField(max_length=50, help_text="Key of the payload decoder.")
    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="mqtt_routes",
        help_text="The organization whose integration publishes here (e.g. its The Things "
        "Stack application, v3/{app}@{tenant}/devices/+/up): devices are looked up in it "
        "only and its dead letters are its. Empty: devices are looked up in every "
        "organization, and an id registered by several is refused (docs/lorawan.md).",
    )
    enabled = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0, help_text="Lower positions match first.")
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = "MQTT route"

    def __str__(self) -> str:
        owner = f" ({self.organization})" if self.organization_id else ""
        return f"{self.pattern} → {self.decoder}{owner}"

    def clean(self) -> None:
        from sensorgrid.ingest import decoders
        from sensorgrid.ingest.mqtt.routes import RouteError, check

        errors = {}
        try:
            check(self.pattern)
        except RouteError as exc:
            errors["pattern"] = str(exc)
        if self.decoder not in decoders.available():
            errors["decoder"] = (
                f"No decoder {self.decoder!r}; known: {', '.join(decoders.available())}"
            )
        if errors:
            raise ValidationError(errors)
