from django.db import models

from sensorgrid.inventory.models import Node, NodeStatus
from sensorgrid.tenancy.scoping import TenantQuerySet


class NodeStatusChangeQuerySet(TenantQuerySet):
    """Changes of nodes of the user's organizations: members only, like time series."""

    org_lookup = "node__organization"


class NodeStatusChange(models.Model):
    """One transition of a node's health state, at the moment it became true."""

    node = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=10, choices=NodeStatus.choices)
    to_status = models.CharField(max_length=10, choices=NodeStatus.choices)
    at = models.DateTimeField(help_text="When the new state began (not when it was noticed).")
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = NodeStatusChangeQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["node", "-at"], name="fidelity_node_at")]

    def __str__(self) -> str:
        return f"{self.node_id}: {self.from_status} → {self.to_status} at {self.at:%Y-%m-%d %H:%M}"
