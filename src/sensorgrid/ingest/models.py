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
