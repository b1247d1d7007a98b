from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from sensorgrid import __version__
from sensorgrid.health import anomaly, chart, checks, status
from sensorgrid.inventory.models import NodeStatus
from sensorgrid.tenancy.models import Organization
from sensorgrid.tenancy.scoping import Action, organization_ids

CHART_WIDTH, CHART_HEIGHT = 600, 120


@csrf_exempt
@never_cache
@require_safe
def healthz(request):
    """The process is alive and serving. No I/O, so it never flaps with a dependency."""
    return JsonResponse({"status": "ok", "version": __version__})


@csrf_exempt
@never_cache
@require_safe
def readyz(request):
    """Every required dependency answers; 503 names those that do not. Others are reported."""
    results = checks.run_all()
    ready = all(result.ok for result in results if result.required)
    body = {
        "status": "ok" if ready else "unavailable",
        "checks": {
            result.name: {
                "status": "ok" if result.ok else "down",
                "required": result.required,
                "latency_ms": result.latency_ms,
                **result.detail,
                **({"error": result.error} if result.error else {}),
            }
            for result in results
        },
    }
    return JsonResponse(body, status=200 if ready else 503)


@never_cache
@login_required
@require_safe
def status_page(request):
    """Overview: components, ingest rate, dead letters, node health, warnings.

    Superusers (operators) see the whole platform; everybody else only his
    organizations. ``?format=json`` answers the same numbers as JSON, for scripts.
    The page never reloads itself (a timed reload takes the reader's place away, WCAG
    2.2.1): node health changes arrive over /ws/live/, the rest on "Refresh".
    """
    data = status.gather(user=request.user)
    if request.GET.get("format") == "json":
        return JsonResponse(data.as_json())
    labels = dict(NodeStatus.choices)
    context = {
        "status": data,
        "bars": chart.bars(data.ingest, CHART_WIDTH, CHART_HEIGHT),
        "chart_width": CHART_WIDTH,
        "chart_height": CHART_HEIGHT,
        "node_counts": [(key, labels[key], n) for key, n in data.node_counts.items()],
        "node_total": sum(data.node_counts.values()),
        "findings": [_finding_row(finding) for finding in data.findings],
        "live_organizations": _live_organizations(request.user),
    }
    return render(request, "health/status.html", context)


def _live_organizations(user) -> list[int]:
    """The organizations whose nodes' health changes the page follows live."""
    allowed = organization_ids(user, Action.VIEW)
    return list(
        Organization.objects.filter(allowed.q("pk")).order_by("pk").values_list("pk", flat=True)
    )


FINDING_LABELS = {
    "dead_letters_per_minute": "Dead letters per minute",
    "error_rate": "Error rate (dead letters ÷ all messages)",
}


def _finding_row(finding: anomaly.Finding) -> dict:
    """The finding with its numbers formatted in its own unit."""
    if finding.metric == "error_rate":
        shown = [f"{x:.1%}" for x in (finding.recent, finding.baseline_median, finding.threshold)]
    else:
        shown = [
            f"{x:.1f}/min" for x in (finding.recent, finding.baseline_median, finding.threshold)
        ]
    recent, median, threshold = shown
    return {
        "label": FINDING_LABELS.get(finding.metric, finding.metric),
        "recent": recent,
        "median": median,
        "threshold": threshold,
        "firing": finding.firing,
        "explanation": finding.explanation,
    }
