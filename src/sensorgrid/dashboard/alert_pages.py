"""The alert pages of the dashboard: alerts (live), rules and the rule form.

Members of an organization see its alerts and rules; owners acknowledge alerts and
create rules (as in the API, docs/alerts.md). Everything foreign is a 404.
"""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from sensorgrid.alerts import evaluate
from sensorgrid.alerts.models import Alert, AlertRule, Severity
from sensorgrid.dashboard.forms import RuleForm
from sensorgrid.dashboard.views import visible_or_404
from sensorgrid.tenancy import time_zones
from sensorgrid.tenancy.models import Organization
from sensorgrid.tenancy.scoping import (
    Action,
    OrganizationIds,
    member_organizations,
    organization_ids,
)

#: How many resolved alerts the alerts page shows below the open ones.
RECENT_RESOLVED = 50
#: Open alerts shown at most (more would not be read anyway; the API lists them all).
MAX_OPEN = 500

STATES = [
    ("", "All"),
    ("open", "Open"),
    ("unacknowledged", "Open, not acknowledged"),
    ("resolved", "Resolved"),
]
NEW_SECRET = "sensorgrid.dashboard.new_secret"


def alerts_for(user):
    return Alert.objects.for_user(user, Action.VIEW).select_related(
        "rule", "node", "quantity", "acknowledged_by"
    )


def owner_of(user) -> OrganizationIds:
    """The organizations whose alerts ``user`` may acknowledge (all for a superuser)."""
    return organization_ids(user, Action.CHANGE)


def alert_state(alert: Alert) -> str:
    if alert.resolved_at is not None:
        return "resolved"
    return "acknowledged" if alert.acknowledged_at is not None else "open"


def rows(alerts, owned: OrganizationIds) -> list[dict]:
    return [
        {
            "alert": alert,
            "state": alert_state(alert),
            "can_acknowledge": alert.is_open
            and alert.acknowledged_at is None
            and alert.organization_id in owned,
        }
        for alert in alerts
    ]


def _safe_next(request, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return fallback


@login_required
def alerts_page(request):
    """Open alerts first, then the recently resolved ones; live over /ws/live/."""
    state = request.GET.get("state", "")
    severity = request.GET.get("severity", "")
    if state not in dict(STATES):
        state = ""
    if severity not in Severity.values:
        severity = ""
    alerts = alerts_for(request.user)
    if severity:
        alerts = alerts.filter(severity=severity)
    owned = owner_of(request.user)
    open_rows = resolved_rows = None
    if state != "resolved":
        current = alerts.open()
        if state == "unacknowledged":
            current = current.filter(acknowledged_at__isnull=True)
        open_rows = rows(current.order_by("-opened_at", "-pk")[:MAX_OPEN], owned)
    if state in ("", "resolved"):
        done = alerts.filter(resolved_at__isnull=False).order_by("-resolved_at", "-pk")
        resolved_rows = rows(done[:RECENT_RESOLVED], owned)
    # Live rows follow the organizations the user belongs to, a superuser's too: following
    # every organization would join one group per node of the platform.
    organizations = list(
        member_organizations(request.user).values_list("organization_id", flat=True)
    )
    context = {
        "open_rows": open_rows,
        "resolved_rows": resolved_rows,
        "states": STATES,
        "severities": Severity.choices,
        "state": state,
        "severity": severity,
        "config": {
            "subscriptions": [{"organization": pk} for pk in sorted(organizations)],
            "row": reverse("dashboard:alert-row", args=[0]),
            "state": state,
            "severity": severity,
        },
    }
    return render(request, "dashboard/alerts.html", context)


@login_required
def alert_row(request, pk: int):
    """One alert as a table row, for the pages that insert or update it live."""
    alert = visible_or_404(alerts_for(request.user), pk)
    (row,) = rows([alert], owner_of(request.user))
    context = {**row, "next": _safe_next(request, reverse("dashboard:alerts"))}
    # In the zone of the page that inserts it (alerts.js sends it): a node's tabs speak
    # its organization's, /alerts/ the platform's. Only names of the tz database count.
    zone = request.GET.get("tz", "")
    with timezone.override(zone if zone in time_zones.known() else settings.TIME_ZONE):
        return render(request, "dashboard/_alert_row.html", context)


@login_required
@require_POST
def acknowledge(request, pk: int):
    alert = visible_or_404(alerts_for(request.user), pk)
    if not Alert.objects.can(request.user, Action.CHANGE, alert):
        raise PermissionDenied("Only owners of the organization acknowledge its alerts.")
    evaluate.acknowledge(alert, request.user)
    return redirect(_safe_next(request, reverse("dashboard:alerts")))


def rules_for(user):
    return (
        AlertRule.objects.for_user(user, Action.VIEW)
        .select_related("organization", "quantity", "node", "site", "room", "node_model")
        .prefetch_related("channels")
        .order_by("organization__name", "name", "pk")
    )


def can_create_rules(user) -> bool:
    return Organization.objects.for_user(user, Action.CHANGE).exists()


@login_required
def rules_page(request):
    context = {"rules": rules_for(request.user), "can_create": can_create_rules(request.user)}
    return render(request, "dashboard/rules.html", context)


@login_required
def rule_page(request, pk: int):
    rule = visible_or_404(rules_for(request.user), pk)
    new_secret = request.session.get(NEW_SECRET)
    if new_secret and new_secret.get("rule") == rule.pk:
        del request.session[NEW_SECRET]  # shown once
    else:
        new_secret = None
    recent = alerts_for(request.user).filter(rule=rule).order_by("-opened_at", "-pk")[:20]
    context = {
        "rule": rule,
        "new_secret": new_secret,
        "rows": rows(recent, owner_of(request.user)),
    }
    return render(request, "dashboard/rule.html", context)


@login_required
def rule_new_page(request):
    if not can_create_rules(request.user):
        raise PermissionDenied("Only owners of an organization create its alert rules.")
    form = RuleForm(request.POST or None, request=request)
    if request.method == "POST" and form.is_valid():
        rule, channel = form.save()
        if channel is not None:
            request.session[NEW_SECRET] = {
                "rule": rule.pk,
                "channel": channel.name,
                "url": channel.config["url"],
                "secret": channel.secret,
            }
        return redirect("dashboard:rule", pk=rule.pk)
    return render(request, "dashboard/rule_form.html", {"form": form})
