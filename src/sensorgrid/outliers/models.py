"""Outlier models (versions) and the score of every picture (docs/images.md).

- ``OutlierModel``: one trained version per node and image name. Retraining adds a
  version (the newest is the one that scores) and keeps the older ones and their
  scores. The trained arrays live in the images storage (``archive_key``, an ``.npz``
  of numbers written by the server, read without unpickling: ``outliers.detector``).
- ``OutlierScore``: what one version said of one picture: the error, the threshold it
  was held against, the verdict and the reconstruction (an object beside the picture).
  Node, name and time are copied from the picture for the timeline and live queries.
"""

from django.conf import settings
from django.db import models
from django.db.models.signals import post_delete
from django.dispatch import receiver

from sensorgrid.images import storage
from sensorgrid.images.models import Image
from sensorgrid.inventory.models import Node
from sensorgrid.tenancy.scoping import TenantQuerySet


class ModelKind(models.TextChoices):
    MLP = "mlp", "Autoencoder (scikit-learn MLPRegressor)"
    PCA = "pca", "PCA baseline"


class OutlierModelQuerySet(TenantQuerySet):
    org_lookup = "node__organization"

    def current(self, node_id: int, name: str) -> "OutlierModel | None":
        """The version that scores new pictures of ``node_id``'s ``name``: the newest."""
        return self.filter(node_id=node_id, name=name).order_by("-version").first()


class OutlierModel(models.Model):
    """One trained version of a node's model for one image name."""

    node = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="outlier_models")
    name = models.SlugField(max_length=100, help_text="The image name the model scores.")
    version = models.PositiveIntegerField(help_text="1, 2, …: each training adds one.")
    kind = models.CharField(max_length=10, choices=ModelKind.choices, default=ModelKind.MLP)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The normal pictures it learned: the node's pictures of ``name`` in [from, to), or
    # the first ``first`` of them (or both: the first N of the range).
    trained_from = models.DateTimeField(null=True, blank=True)
    trained_to = models.DateTimeField(null=True, blank=True)
    first = models.PositiveIntegerField(null=True, blank=True)
    pictures = models.PositiveIntegerField(help_text="How many pictures it was trained on.")
    first_ts = models.DateTimeField(help_text="The oldest training picture's time.")
    last_ts = models.DateTimeField(help_text="The newest training picture's time.")
    size = models.PositiveSmallIntegerField(help_text="Side of the grayscale input, pixels.")
    quantile = models.FloatField()
    margin = models.FloatField()
    threshold = models.FloatField(
        help_text="Mean squared error above which a picture is an outlier."
    )
    training_error_mean = models.FloatField()
    training_error_max = models.FloatField()
    archive_key = models.CharField(max_length=300, help_text="Storage key of the trained arrays.")
    archive_sha256 = models.CharField(max_length=64)

    objects = OutlierModelQuerySet.as_manager()

    class Meta:
        ordering = ["node_id", "name", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["node", "name", "version"], name="outlier_model_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} of node {self.node_id} v{self.version} ({self.kind})"


class OutlierScoreQuerySet(TenantQuerySet):
    org_lookup = "node__organization"


class OutlierScore(models.Model):
    """One version's verdict on one picture."""

    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="outlier_scores")
    model = models.ForeignKey(OutlierModel, on_delete=models.CASCADE, related_name="scores")
    node = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="+", db_index=False)
    name = models.SlugField(max_length=100)
    ts = models.DateTimeField(help_text="When the picture was taken.")
    score = models.FloatField(help_text="Mean squared reconstruction error.")
    threshold = models.FloatField(help_text="The model's threshold when it scored.")
    is_outlier = models.BooleanField()
    reconstruction_key = models.CharField(max_length=300, blank=True)
    scored_at = models.DateTimeField(auto_now_add=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = OutlierScoreQuerySet.as_manager()

    class Meta:
        ordering = ["-ts", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["image", "model"], name="outlier_score_once")
        ]
        indexes = [
            models.Index(fields=["node", "name", "-ts"], name="outlier_score_node_newest"),
        ]

    def __str__(self) -> str:
        verdict = "outlier" if self.is_outlier else "normal"
        return f"{verdict} {self.score:.6f} (image {self.image_id}, model {self.model_id})"


@receiver(post_delete, sender=OutlierScore, dispatch_uid="outliers-score-objects")
def _score_deleted(sender, instance: OutlierScore, **kwargs) -> None:
    storage.delete_on_commit([instance.reconstruction_key])


@receiver(post_delete, sender=OutlierModel, dispatch_uid="outliers-model-objects")
def _model_deleted(sender, instance: OutlierModel, **kwargs) -> None:
    storage.delete_on_commit([instance.archive_key])
