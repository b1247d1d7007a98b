from django import forms
from django.contrib import admin, messages

from sensorgrid.geo.models import Feature, Layer, Pipeline, PipelineRun, Trigger
from sensorgrid.geo.pipelines import sources
from sensorgrid.tenancy.admin import TenantAdmin
from sensorgrid.tenancy.scoping import Action

INLINE_RUNS = 20


@admin.register(Layer)
class LayerAdmin(TenantAdmin):
    list_display = ["key", "name", "organization", "geometry_type", "is_public"]
    list_filter = ["geometry_type", "is_public", ("organization", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["key", "name"]


@admin.register(Feature)
class FeatureAdmin(TenantAdmin):
    """Features come from pipelines; here they are only looked at."""

    list_display = ["external_id", "layer", "pipeline", "valid_from", "valid_to", "updated_at"]
    list_filter = [("layer", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["external_id"]
    list_select_related = ["layer", "pipeline"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class PipelineRunInline(admin.TabularInline):
    model = PipelineRun
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ["-started_at", "-pk"]
    fields = readonly_fields = [
        "started_at",
        "trigger",
        "status",
        "created",
        "updated",
        "unchanged",
        "deleted",
        "skipped",
        "timings",
        "error",
        "log",
    ]

    def get_queryset(self, request):
        # The newest runs only: an hourly pipeline collects thousands in a year.
        match = request.resolver_match
        object_id = str(match.kwargs.get("object_id", "")) if match else ""
        newest = (
            PipelineRun.objects.filter(pipeline_id=object_id).order_by("-started_at", "-pk")
            if object_id.isdigit()
            else PipelineRun.objects.none()
        )
        return (
            super()
            .get_queryset(request)
            .filter(pk__in=list(newest.values_list("pk", flat=True)[:INLINE_RUNS]))
        )

    def has_view_permission(self, request, obj=None) -> bool:
        # Tenancy decides (the pipeline's page is only reachable for those who may see it).
        return request.user.is_active and request.user.is_staff

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class PipelineForm(forms.ModelForm):
    source = forms.ChoiceField(
        choices=lambda: [(key, key) for key in sources.names()],
        help_text="Where the data comes from; docs/pipelines.md lists each source's options.",
    )

    class Meta:
        model = Pipeline
        fields = ["key", "name", "layer", "source", "options", "schedule", "enabled"]


@admin.register(Pipeline)
class PipelineAdmin(TenantAdmin):
    form = PipelineForm
    list_display = [
        "key",
        "name",
        "layer",
        "source",
        "schedule",
        "enabled",
        "next_run_at",
        "last_status",
    ]
    list_filter = ["source", "enabled"]
    search_fields = ["key", "name", "layer__key"]
    readonly_fields = ["next_run_at", "consecutive_failures", "created_at"]
    inlines = [PipelineRunInline]
    actions = ["run_now"]

    @admin.display(description="last run")
    def last_status(self, obj) -> str:
        run = obj.runs.order_by("-started_at", "-pk").first()
        return f"{run.status} {run.started_at:%Y-%m-%d %H:%M}" if run else "never"

    @admin.action(description="Run now (on the worker)")
    def run_now(self, request, queryset):
        from sensorgrid.geo.tasks import run_pipeline

        allowed = [p for p in queryset if Pipeline.objects.can(request.user, Action.CHANGE, p)]
        for pipeline in allowed:
            run_pipeline(pipeline.pk, Trigger.ADMIN)
        if allowed:
            self.message_user(
                request,
                f"Queued {len(allowed)} run(s): {', '.join(p.key for p in allowed)}. The "
                "history below each pipeline shows the result once the worker is done.",
                level=messages.SUCCESS,
            )
        if len(allowed) < len(queryset):
            self.message_user(
                request, "Only owners of the layer's organization may run it.", messages.WARNING
            )


@admin.register(PipelineRun)
class PipelineRunAdmin(TenantAdmin):
    list_display = [
        "pipeline",
        "started_at",
        "trigger",
        "status",
        "created",
        "updated",
        "deleted",
        "skipped",
    ]
    list_filter = ["status", "trigger"]
    list_select_related = ["pipeline"]
    search_fields = ["pipeline__key"]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
