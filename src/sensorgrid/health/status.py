"""Everything the staff status page shows, gathered in a handful of queries.

Kept apart from the view so the HTML page and its JSON variant show the same
numbers, and so tests can check the numbers without parsing HTML.

Operators (superusers) see the whole platform. Every other signed-in user sees the
page scoped to the organizations he is a member of (``organization_ids``, the rule of
the API): their nodes, their dead letters; the platform-wide ingest counters and their
warnings (which sum every organization) are left out, and so is every row of another
organization — names, device ids and counts alike.
"""

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.db.models import Count, F
from django.utils import timezone

from sensorgrid.fidelity import summary
from sensorgrid.health import anomaly, checks
from sensorgrid.health.ingest_rate import minute_of
from sensorgrid.health.models import IngestMinute
from sensorgrid.inventory.models import Node, NodeStatus
from sensorgrid.telemetry.models import DeadLetter, Reason, Source
from sensorgrid.tenancy.scoping import Action, organization_ids, sees_everything

WINDOW = timedelta(hours=1)
TROUBLED_LIMIT = 50


@dataclass(frozen=True, slots=True)
class Tally:
    key: str
    label: str
    count: int


@dataclass(frozen=True, slots=True)
class TroubledNode:
    """A node that stopped sending: MISSING or DEAD."""

    id: int
    device_id: str
    name: str
    organization: str
    status: str
    status_since: datetime | None
    last_seen: datetime | None


@dataclass(frozen=True, slots=True)
class Status:
    generated_at: datetime
    components: list[checks.CheckResult]
    ingest: list[anomaly.MinuteCount]  # the last hour, oldest first, the current minute last
    values_last_hour: int
    dead_letters_last_hour: int  # from the counters (every committed batch)
    dead_letters_by_reason: list[Tally]  # from the dead letters received in the last hour
    dead_letters_by_source: list[Tally]
    node_counts: dict[str, int]
    troubled_nodes: list[TroubledNode]
    findings: tuple[anomaly.Finding, ...]
    platform: bool = True  # False: scoped to the viewer's organizations

    @property
    def firing(self) -> list[anomaly.Finding]:
        return [finding for finding in self.findings if finding.firing]

    @property
    def peak_values_per_minute(self) -> int:
        return max((m.values for m in self.ingest), default=0)

    def as_json(self) -> dict:
        """Plain JSON types, for ``/status/?format=json``."""
        body = asdict(self)
        body["components"] = [
            {**asdict(c), "status": "ok" if c.ok else "down"} for c in self.components
        ]
        body["firing"] = [f.metric for f in self.firing]
        return body


def gather(
    now: datetime | None = None, rule: anomaly.Rule = anomaly.DEFAULT_RULE, user=None
) -> Status:
    """The platform's status; for a ``user`` who is no superuser, only his organizations'."""
    now = now or timezone.now()
    if user is not None and not sees_everything(user):
        return gather_scoped(now, user)
    current = minute_of(now)
    history = minutes_since(current - timedelta(minutes=rule.history_minutes), current)
    last_hour = _filled(history, current - WINDOW + timedelta(minutes=1), current)
    letters = DeadLetter.objects.filter(received_at__gt=now - WINDOW, received_at__lte=now)
    return Status(
        generated_at=now,
        components=checks.run_all(),
        ingest=last_hour,
        values_last_hour=sum(m.values for m in last_hour),
        dead_letters_last_hour=sum(m.dead_letters for m in last_hour),
        dead_letters_by_reason=_tally(letters, "reason", dict(Reason.choices)),
        dead_letters_by_source=_tally(letters, "source", dict(Source.choices)),
        node_counts=summary.counts(Node.objects.all()),
        troubled_nodes=troubled_nodes(),
        findings=anomaly.assess(history, now, rule),
    )


def gather_scoped(now: datetime, user) -> Status:
    """The page of a member: his nodes and dead letters, no platform-wide counters.

    Membership only, never ``for_user``'s public rows: a public installation publishes
    a node's values, not its health, and the page must not count strangers' nodes.
    """
    allowed = organization_ids(user, Action.VIEW)
    letters = DeadLetter.objects.filter(
        allowed.q("organization"), received_at__gt=now - WINDOW, received_at__lte=now
    )
    nodes = Node.objects.filter(allowed.q("organization"))
    return Status(
        generated_at=now,
        components=checks.run_all(),
        ingest=[],
        values_last_hour=0,
        dead_letters_last_hour=letters.count(),
        dead_letters_by_reason=_tally(letters, "reason", dict(Reason.choices)),
        dead_letters_by_source=_tally(letters, "source", dict(Source.choices)),
        node_counts=summary.counts(nodes),
        troubled_nodes=troubled_nodes(nodes=nodes),
        findings=(),
        platform=False,
    )


def minutes_since(first: datetime, last: datetime) -> list[anomaly.MinuteCount]:
    """The stored minutes from ``first`` to ``last`` inclusive (≤ a few dozen PK rows)."""
    rows = IngestMinute.objects.filter(minute__gte=first, minute__lte=last).values_list(
        "minute", "value_count", "dead_letter_count"
    )
    return [anomaly.MinuteCount(minute_of(at), values, letters) for at, values, letters in rows]


def _filled(
    minutes: list[anomaly.MinuteCount], first: datetime, last: datetime
) -> list[anomaly.MinuteCount]:
    by_minute = {m.minute: m for m in minutes}
    span = int((last - first) / timedelta(minutes=1)) + 1
    ats = [first + timedelta(minutes=n) for n in range(span)]
    return [by_minute.get(at) or anomaly.MinuteCount(at, 0, 0) for at in ats]


def _tally(letters, field: str, labels: dict[str, str]) -> list[Tally]:
    """Counts per value of ``field``, largest first (received_at is indexed)."""
    rows = letters.order_by().values_list(field).annotate(n=Count("pk"))
    ranked = sorted(rows, key=lambda row: (-row[1], row[0]))
    return [Tally(key, str(labels.get(key, key)), n) for key, n in ranked]


def troubled_nodes(limit: int = TROUBLED_LIMIT, nodes=None) -> list[TroubledNode]:
    """MISSING and DEAD nodes (of ``nodes``, default all), most recent change first."""
    nodes = (
        (Node.objects.all() if nodes is None else nodes)
        .filter(status__in=[NodeStatus.MISSING, NodeStatus.DEAD])
        .select_related("organization")
        .order_by(F("status_since").desc(nulls_last=True), "-pk")[:limit]
    )
    return [
        TroubledNode(
            node.pk,
            node.device_id,
            str(node),
            node.organization.name,
            node.status,
            node.status_since,
            node.last_seen,
        )
        for node in nodes
    ]
