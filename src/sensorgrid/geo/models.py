"""Map layers imported from open data, and the pipelines that fill them (docs/pipelines.md).

Geometry is GeoJSON in a JSON column; its bounding box is copied into four indexed
float columns so that ``bbox=`` queries work on every database without GDAL or PostGIS.
"""

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from sensorgrid.geo import cron
from sensorgrid.geo.pipelines.extras import MissingExtra
from sensorgrid.tenancy.models import Organization
from sensorgrid.tenancy.scoping import TenantQuerySet

#: Keys that the geo API uses for its own paths.
RESERVED_LAYER_KEYS = frozenset({"nodes", "layers"})

key_validator = RegexValidator(
    r"^[a-z0-9][a-z0-9_-]*\Z",
    "Use lower-case letters, digits, _ and - only (it appears in URLs), starting with a "
    "letter or digit.",
)


def not_reserved(value: str) -> None:
    if value in RESERVED_LAYER_KEYS:
        raise ValidationError(f"{value!r} is reserved by the geo API; choose another key.")
    if value.isdigit():
        raise ValidationError("A key must not be a number (numbers address layers by id).")


class GeometryType(models.TextChoices):
    ANY = "any", "any"
    POINT = "Point", "points"
    LINE = "LineString", "lines"
    POLYGON = "Polygon", "polygons"


class LayerQuerySet(TenantQuerySet):
    def public_q(self) -> Q:
        return Q(is_public=True)


class Layer(models.Model):
    """A map layer: features of one kind (bike stands, trees, events) of one organization."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="layers")
    key = models.CharField(
        max_length=100,
        unique=True,
        validators=[key_validator, not_reserved],
        help_text="Address in the geo API: /api/geo/<key>/.",
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    geometry_type = models.CharField(
        max_length=20,
        choices=GeometryType.choices,
        default=GeometryType.ANY,
        help_text="Features of another type are skipped by the pipelines (Multi* counts "
        "as its single type).",
    )
    is_public = models.BooleanField(
        default=False, help_text="Anybody, also without an account, may read the layer."
    )
    style = models.JSONField(
        default=dict, blank=True, help_text='Hints for the map, e.g. {"color": "#2a7"}.'
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = LayerQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class FeatureQuerySet(TenantQuerySet):
    org_lookup = "layer__organization"

    def public_q(self) -> Q:
        return Q(layer__is_public=True)


class Feature(models.Model):
    layer = models.ForeignKey(Layer, on_delete=models.CASCADE, related_name="features")
    pipeline = models.ForeignKey(
        "Pipeline",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="features",
        help_text="The pipeline that loaded it; only this pipeline deletes it again.",
    )
    external_id = models.CharField(max_length=255, help_text="The feature's id at the source.")
    geometry = models.JSONField(help_text="GeoJSON geometry, WGS 84 longitude/latitude.")
    properties = models.JSONField(default=dict, blank=True)
    min_x = models.FloatField()
    min_y = models.FloatField()
    max_x = models.FloatField()
    max_y = models.FloatField()
    valid_from = models.DateTimeField(null=True, blank=True, help_text="Events: the start.")
    valid_to = models.DateTimeField(null=True, blank=True, help_text="Events: the end.")
    fingerprint = models.CharField(max_length=64, editable=False, help_text="Content hash.")
    updated_at = models.DateTimeField(default=timezone.now)

    objects = FeatureQuerySet.as_manager()

    class Meta:
        ordering = ["layer_id", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["layer", "external_id"], name="feature_layer_external_id"
            )
        ]
        indexes = [
            models.Index(fields=["layer", "min_x", "max_x"], name="feature_bbox_x"),
            models.Index(fields=["layer", "min_y", "max_y"], name="feature_bbox_y"),
            models.Index(fields=["layer", "valid_from", "valid_to"], name="feature_validity"),
        ]

    def __str__(self) -> str:
        return f"{self.layer.key}/{self.external_id}"


class PipelineQuerySet(TenantQuerySet):
    org_lookup = "layer__organization"


class Pipeline(models.Model):
    """Where a layer's features come from, how they are mapped and when they are refreshed."""

    key = models.CharField(max_length=100, unique=True, validators=[key_validator])
    name = models.CharField(max_length=200, blank=True)
    layer = models.ForeignKey(Layer, on_delete=models.CASCADE, related_name="pipelines")
    source = models.CharField(
        max_length=30, help_text="csv, json, geojson, overpass, wfs, ical or wikipedia."
    )
    options = models.JSONField(
        default=dict,
        blank=True,
        help_text="Source options (url, query, …) and the field mapping; docs/pipelines.md.",
    )
    schedule = models.CharField(
        max_length=100,
        blank=True,
        help_text='Cron expression in UTC, e.g. "17 3 * * *"; empty: only on demand.',
    )
    enabled = models.BooleanField(default=True)
    next_run_at = models.DateTimeField(null=True, blank=True, editable=False, db_index=True)
    consecutive_failures = models.PositiveIntegerField(default=0, editable=False)
    failure_mailed = models.BooleanField(
        default=False, editable=False, help_text="The owners heard of the current failures."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PipelineQuerySet.as_manager()

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.name or self.key

    def save(self, *args, **kwargs):
        # The next run follows the schedule; a changed schedule starts counting now.
        if not self.enabled or not self.schedule:
            self.next_run_at = None
        elif self.next_run_at is None or self._schedule_changed():
            self.next_run_at = cron.next_after(self.schedule, timezone.now())
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "next_run_at"}
        super().save(*args, **kwargs)

    @property
    def organization_id(self) -> int:
        return self.layer.organization_id

    def clean(self) -> None:
        # The sources, not the pipelines package: the runner imports these models.
        from sensorgrid.geo.pipelines import sources

        errors = {}
        try:
            sources.get(self.source).check_options(self.options or {})
        except (KeyError, ValueError) as exc:
            errors["source" if isinstance(exc, KeyError) else "options"] = exc.args[0]
        except (TypeError, AttributeError) as exc:
            errors["options"] = f"Options of an unexpected shape: {exc}."
        if self.schedule:
            try:
                cron.check(self.schedule)
            except (ValueError, MissingExtra) as exc:
                errors["schedule"] = str(exc)
        if errors:
            raise ValidationError(errors)

    def _schedule_changed(self) -> bool:
        if self.pk is None:
            return True
        old = Pipeline.objects.filter(pk=self.pk).values_list("schedule", "enabled").first()
        return old is None or old != (self.schedule, self.enabled)


class RunStatus(models.TextChoices):
    RUNNING = "running", "running"
    SUCCEEDED = "succeeded", "succeeded"
    FAILED = "failed", "failed"


class Trigger(models.TextChoices):
    SCHEDULE = "schedule", "schedule"
    MANUAL = "manual", "manual (command line)"
    ADMIN = "admin", "admin (run now)"


class PipelineRunQuerySet(TenantQuerySet):
    org_lookup = "pipeline__layer__organization"


class PipelineRun(models.Model):
    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="runs")
    trigger = models.CharField(max_length=20, choices=Trigger.choices, default=Trigger.MANUAL)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=20, choices=RunStatus.choices, default=RunStatus.RUNNING, db_index=True
    )
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    deleted = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0, help_text="Malformed rows left out.")
    timings = models.JSONField(default=dict, blank=True, help_text="Seconds per step.")
    log = models.TextField(blank=True)
    error = models.TextField(blank=True)

    objects = PipelineRunQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-pk"]
        indexes = [models.Index(fields=["pipeline", "-started_at"], name="pipelinerun_history")]

    def __str__(self) -> str:
        return f"{self.pipeline.key} {self.started_at:%Y-%m-%d %H:%M} {self.status}"

    @property
    def duration(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()
