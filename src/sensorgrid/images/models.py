"""Image metadata; the bytes live in object storage (docs/images.md).

One row per picture a node sent: what it is (name, time, type, size, pixels), the
sha256 of the bytes the device sent (so a resent picture is stored once) and the
storage keys of its objects (the original, with EXIF GPS removed, and a thumbnail).
Objects made later from a picture (the outliers app's reconstructions) keep their own
keys in their own rows and use ``sensorgrid.images.storage`` the same way.
"""

from datetime import datetime

from django.db import models
from django.db.models import Q

from sensorgrid.inventory.models import Installation, Node
from sensorgrid.tenancy.scoping import TenantQuerySet


class ImageQuerySet(TenantQuerySet):
    org_lookup = "node__organization"

    def readable_by(self, user, now: datetime | None = None) -> "ImageQuerySet":
        """Pictures ``user`` may see: his organizations' (``for_user``) and, for
        everybody, those taken by a node during one of its public installations.

        The rule of the time-series API: a public installation publishes its node's
        data for the installation's period only (``[start, end)``).
        """
        from sensorgrid.tenancy.scoping import sees_everything

        if sees_everything(user):
            return self.all()
        return self.for_user(user) | self.filter(self.published_q())

    @staticmethod
    def published_q() -> Q:
        """Pictures taken during a public installation of their node."""
        public = Installation.objects.filter(
            is_public=True,
            node_id=models.OuterRef("node_id"),
            start__lte=models.OuterRef("ts"),
        ).filter(Q(end__isnull=True) | Q(end__gt=models.OuterRef("ts")))
        return Q(models.Exists(public))


class Image(models.Model):
    """One picture of one node, named like a quantity (``camera``, ``door``)."""

    node = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="images", db_index=False)
    name = models.SlugField(
        max_length=100, help_text="What the picture shows: the topic's KPI or image name."
    )
    ts = models.DateTimeField(help_text="When the picture was taken (the device's time).")
    received_at = models.DateTimeField(help_text="When SensorGrid stored it.")
    content_type = models.CharField(
        max_length=20, help_text="image/jpeg, image/png or image/webp: read from the bytes."
    )
    size = models.PositiveIntegerField(help_text="Bytes of the stored original.")
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    sha256 = models.CharField(
        max_length=64, help_text="Hex sha256 of the bytes the device sent (before GPS removal)."
    )
    key = models.CharField(max_length=300, help_text="Storage key of the original.")
    thumbnail_key = models.CharField(max_length=300, help_text="Storage key of the thumbnail.")
    thumbnail_content_type = models.CharField(max_length=20, default="image/webp")

    objects = ImageQuerySet.as_manager()

    class Meta:
        ordering = ["-ts", "-pk"]
        constraints = [
            # The same bytes from the same node at the same time are one picture.
            models.UniqueConstraint(
                fields=["node", "name", "ts", "sha256"], name="image_node_name_ts_sha256"
            )
        ]
        indexes = [
            # A node's timeline (newest first), optionally of one name; retention.
            models.Index(fields=["node", "-ts"], name="image_node_newest"),
            models.Index(fields=["node", "name", "-ts"], name="image_node_name_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.name} of node {self.node_id} {self.ts:%Y-%m-%d %H:%M:%S}"

    @property
    def keys(self) -> tuple[str, ...]:
        """Every object of this picture in the store."""
        return (self.key, self.thumbnail_key)
