"""One Datastream's Observations, read from its own store (the fast path for reads).

``walls.visible("Observations", user)`` is the two-store view ``ObservationRow``: right for
``/Observations`` and for filters across Datastreams, but PostgreSQL does not flatten a
UNION ALL of joins, so ``Datastreams(x)/Observations?$orderby=phenomenonTime desc&$top=100``
through it sorts every Observation of the range before returning 100 (≈ 50 ms per 20,000
samples, measured in docs/performance.md). ``of_datastream`` reads the Datastream's store
alone instead: for a samples Datastream the view ``SampleRow`` filtered on the series'
constant node and quantity, which PostgreSQL answers from the samples' primary-key index in
time order (0.3 ms for the same query); exact counts of the series use the same index.

Read code should use it whenever the Datastream is known (a path through
``Datastreams(x)``, an ``$expand=Observations`` of one Datastream done per Datastream, an
Observation id decoded by ``ids.locate``). ``SampleRow`` has ``ObservationRow``'s columns
with the same names, so the ``$filter`` and ``$orderby`` translations of the Observations
set apply unchanged (navigations other than Datastream and FeatureOfInterest excepted).
"""

from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from sensorgrid.sensorthings import walls
from sensorgrid.sensorthings.models import Datastream, ObservationRow, SampleRow, Store
from sensorgrid.tenancy.scoping import sees_everything


def of_datastream(datastream: Datastream, user, now: datetime | None = None) -> QuerySet:
    """The Observations of ``datastream`` that ``user`` may see, from its own store.

    A ``SampleRow`` queryset for the samples store, an ``ObservationRow`` one (narrowed to
    the Datastream) otherwise; both carry ``ObservationRow``'s columns. The caller has
    checked that ``user`` sees the Datastream itself (``walls.visible("Datastreams")``);
    the Observations' own wall (a public installation's period) is applied here, as time
    ranges on the index for a reader outside the Datastream's organization (one query for
    the memberships, one for the node's public periods).
    """
    qs: QuerySet
    if datastream.store == Store.SAMPLES:
        qs = SampleRow.objects.filter(
            node_id=datastream.node_id,
            quantity_id=datastream.quantity_id,
            datastream_id=datastream.pk,
        )
    else:
        qs = ObservationRow.objects.filter(datastream_id=datastream.pk, node_id__isnull=True)
    if sees_everything(user) or datastream.organization_id in walls.member_ids(user):
        return qs  # a member (or a superuser) sees all of it
    return qs.filter(public_periods(datastream.node_id, now))


def public_periods(node_id: int, now: datetime | None = None) -> Q:
    """Times of ``node_id``'s Observations that its public installations publish, as
    ranges ([start, end), none after ``now``); matches nothing without one."""
    now = now or timezone.now()
    periods = walls.public_installations(now).filter(node_id=node_id).values_list("start", "end")
    allowed = Q(pk__in=[])
    for start, end in periods:
        if end is None or end > now:
            allowed |= Q(phenomenon_time__gte=start, phenomenon_time__lte=now)
        else:
            allowed |= Q(phenomenon_time__gte=start, phenomenon_time__lt=end)
    return allowed
