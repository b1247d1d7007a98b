"""Who sees and who changes which SensorThings rows: the organization walls.

Every read starts from ``visible(entity_set, user)`` and every write from
``changeable(entity_set, user)``; a row outside them behaves exactly like a missing one.
The querysets filter through subqueries (the user's memberships, the public
installations), so they compose with the query options and cost one statement; except
Observations: PostgreSQL pushes no condition holding a subquery into the branches of the
two-store view, so every row would be read and joined first (a member's count of all his
Observations took 6× a hand-written count(*)). Their wall (``observations_q``) reads the
user's organization ids and the public periods first (two small queries, bounded by his
memberships and the public installations) and filters with constants.

- Superusers: everything.
- Members (owners and inspectors): their organizations' rows, plus what everybody sees.
- The shared catalogue (ObservedProperties and Sensors whose organization is empty:
  mirrors of quantities and catalogue node models) is listed to a user while a Datastream
  he sees uses it (else FROST's clean-up loops, which delete everything they list, never
  end); ``referable`` lets owners link to any of it.
- Everybody, also anonymous: what public installations publish, as the time-series API
  does (``InstallationTimeseriesView``): a node with a public installation that has begun
  is a public Thing with public Datastreams, whose Observations are public from the
  installation's start until its end (or now); the site of a public installation is a
  public Location (never the site of a later private installation of the node), a
  Location made through STA is public while it is linked to a node publicly installed
  now, the installation a public HistoricalLocation; ObservedProperties and
  Sensors of public Datastreams, FeaturesOfInterest of public Locations are public.
- Changing (``changeable``): owners, their organizations' rows only; the shared
  catalogue only superusers; inspectors and anonymous users nothing.
"""

from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from sensorgrid.inventory.models import Installation
from sensorgrid.sensorthings import models as sta
from sensorgrid.sensorthings.errors import StaError
from sensorgrid.sensorthings.schema import BY_SINGULAR, ENTITY_SETS, EntitySet
from sensorgrid.tenancy.models import Membership, Organization, Role
from sensorgrid.tenancy.scoping import (
    Action,
    member_organizations,
    organization_ids,
    sees_everything,
)

#: The header a member of several organizations names the one he writes in with.
ORGANIZATION_HEADER = "X-SensorGrid-Organization"

# Every set's model has an ``organization`` (a Thing's is its node's; an Observation's
# its Datastream's, a column of the view).
_ORG = "organization"
_USED_BY_DATASTREAMS = {"Sensors": "sensor_id", "ObservedProperties": "observed_property_id"}


def entity_set(name_or_set: str | EntitySet) -> EntitySet:
    if isinstance(name_or_set, EntitySet):
        return name_or_set
    found = ENTITY_SETS.get(name_or_set) or BY_SINGULAR.get(name_or_set)
    if found is None:
        raise StaError(404, f"No entity set {name_or_set}.")
    return found


def public_installations(now: datetime | None = None) -> QuerySet:
    """Public installations that have begun (ended ones still publish their period)."""
    return Installation.objects.filter(is_public=True, start__lte=now or timezone.now())


def public_nodes(now: datetime | None = None) -> QuerySet:
    """Ids of the nodes a public installation publishes (a subquery)."""
    return public_installations(now).values("node_id")


def _public_datastreams(now: datetime) -> QuerySet:
    return sta.Datastream.objects.filter(node_id__in=public_nodes(now))


def _public_locations(now: datetime) -> Q:
    """The sites of public installations that have begun (ended ones too: they publish
    their period), and Locations made through STA (no site) of a node that is publicly
    installed now. Never another site's mirror only because a public node is linked to
    it: a node whose public installation ended stays a public Thing, but where it was
    installed privately afterwards is its organization's business."""
    sites = public_installations(now).values("room__site_id")
    current = public_installations(now).filter(Q(end__isnull=True) | Q(end__gt=now))
    linked = sta.Location.things.through.objects.filter(node_id__in=current.values("node_id"))
    return Q(site_id__in=sites) | Q(site__isnull=True, pk__in=linked.values("location_id"))


def public_q(name: str, now: datetime) -> Q:
    """Rows of set ``name`` that everybody, also anonymous, may see at ``now``."""
    if name == "Things":
        return Q(pk__in=public_nodes(now))
    if name == "Datastreams":
        return Q(node_id__in=public_nodes(now))
    if name == "Observations":
        return _public_observations(now)
    if name == "Locations":
        return _public_locations(now)
    if name == "HistoricalLocations":
        return Q(installation__in=public_installations(now))
    if name in ("Sensors", "ObservedProperties"):
        column = "sensor_id" if name == "Sensors" else "observed_property_id"
        return Q(pk__in=_public_datastreams(now).values(column))
    if name == "FeaturesOfInterest":
        return Q(location__in=sta.Location.objects.filter(_public_locations(now)))
    raise StaError(404, f"No entity set {name}.")


def _public_periods(now: datetime) -> tuple[list[int], Q] | None:
    """The public periods (one query) as (their nodes, the exact condition on the views'
    ``thing_id`` and ``phenomenon_time``); None when nothing is public."""
    periods = list(public_installations(now).values_list("node_id", "start", "end"))
    if not periods:
        return None
    exact = Q(pk__in=[])
    for node_id, start, end in periods:
        until = (
            Q(phenomenon_time__lte=now) if end is None or end > now else Q(phenomenon_time__lt=end)
        )
        exact |= Q(thing_id=node_id, phenomenon_time__gte=start) & until
    return sorted({node_id for node_id, _, _ in periods}), exact


def _public_observations(now: datetime) -> Q:
    """Observations of the public periods, as conditions on the view's own columns with
    constants: PostgreSQL pushes a filter into the branches of the UNION ALL view only
    when it holds no subquery. The first factor is on the Datastream alone (its node), so
    each branch reads only those Datastreams' rows."""
    public = _public_periods(now)
    if public is None:
        return Q(pk__in=[])
    nodes, exact = public
    return Q(thing_id__in=nodes) & exact


def member_ids(user) -> frozenset[int]:
    """The ids of the organizations ``user`` is a member of (``organization_ids``), read
    once per request: kept on the user object, which authentication loads anew for every
    request (a membership removed is seen by the next request)."""
    cached = getattr(user, "_sta_member_ids", None)
    if cached is None:
        cached = frozenset(organization_ids(user).ids)
        if user is not None:
            user._sta_member_ids = cached
    return cached


def observations_q(user, now: datetime | None = None) -> Q | None:
    """The Observations wall as a filter on ``ObservationRow`` and ``SampleRow`` alike
    (None: no filter, a superuser): the user's organizations and the public periods as
    constants (two small queries: memberships, public installations), so that PostgreSQL
    filters each branch of the views on the Datastream before reading samples. A member's
    rows cost no period test (the organization test comes first in each OR)."""
    if sees_everything(user):
        return None
    now = now or timezone.now()
    members = sorted(member_ids(user))
    public = _public_periods(now)
    if public is None:
        return Q(organization_id__in=members) if members else Q(pk__in=[])
    nodes, exact = public
    if not members:
        return Q(thing_id__in=nodes) & exact
    mine = Q(organization_id__in=members)
    return (mine | Q(thing_id__in=nodes)) & (mine | exact)


def visible(name_or_set: str | EntitySet, user, now: datetime | None = None) -> QuerySet:
    """The rows of the set that ``user`` (None or anonymous: the public) may read at
    ``now``: ``entity_set.queryset()`` (with its computed annotations) filtered."""
    es = entity_set(name_or_set)
    qs = es.queryset()
    if sees_everything(user):
        return qs
    now = now or timezone.now()
    if es.name == "Observations":
        wall = observations_q(user, now)
        return qs if wall is None else qs.filter(wall)
    # The members' test first: PostgreSQL evaluates an OR in order, and it is the cheap one.
    allowed = Q(pk__in=[])
    if user is not None and user.is_authenticated and user.is_active:
        allowed = Q(**{f"{_ORG}__in": member_organizations(user)})
        if es.name in _USED_BY_DATASTREAMS:
            # a shared mirror is listed while a Datastream the user sees uses it
            mine = sta.Datastream.objects.filter(organization__in=member_organizations(user))
            allowed |= Q(pk__in=mine.values(_USED_BY_DATASTREAMS[es.name]))
    return qs.filter(allowed | public_q(es.name, now))


def referable(name_or_set: str | EntitySet, user) -> QuerySet:
    """The rows of the set that ``user`` may link to from what he writes (``{"@iot.id":
    n}``): those he may change, and the shared catalogue (ObservedProperties and Sensors
    whose organization is empty), listed or not."""
    es = entity_set(name_or_set)
    qs = changeable(es, user)
    if es.name in _USED_BY_DATASTREAMS and user is not None and user.is_authenticated:
        qs = qs | es.queryset().filter(organization__isnull=True)
    return qs


def changeable(name_or_set: str | EntitySet, user) -> QuerySet:
    """The rows of the set that ``user`` may update or delete: his organizations' where he
    is an OWNER (everything for superusers; nothing for inspectors and anonymous users;
    the shared catalogue for superusers only)."""
    es = entity_set(name_or_set)
    qs = es.queryset()
    if sees_everything(user):
        return qs
    if user is None or not user.is_authenticated or not user.is_active:
        return qs.none()
    return qs.filter(**{f"{_ORG}__in": member_organizations(user, Action.CHANGE)})


def writer_organization(user, header_value: str | None) -> Organization:
    """The organization a write of ``user`` lands in.

    ``header_value`` is the ``X-SensorGrid-Organization`` header (an organization's slug)
    or None. One organization the user owns and no header: that one. Several and no
    header: 400 naming the header and the choices. The header names one he owns: it; one
    he only inspects: 403; one he is no member of (or none exists): 400, the same answer
    for both. No organization he owns: 403. Anonymous: 401. Superusers may name any
    organization.
    """
    if user is None or not user.is_authenticated or not user.is_active:
        raise StaError(401, "Sign in to write: Authorization: Token <key> or Basic auth.")
    slug = (header_value or "").strip()
    superuser = sees_everything(user)
    if slug:
        if superuser:
            organization = Organization.objects.filter(slug=slug).first()
        else:
            membership = (
                Membership.objects.filter(user_id=user.pk, organization__slug=slug)
                .select_related("organization")
                .first()
            )
            if membership is not None and membership.role != Role.OWNER:
                raise StaError(
                    403, f"You may read but not write in organization {slug} (inspector)."
                )
            organization = membership.organization if membership is not None else None
        if organization is None:
            raise StaError(
                400, f"{ORGANIZATION_HEADER}: you are no owner of an organization named {slug!r}."
            )
        return organization
    owned = list(
        Organization.objects.filter(pk__in=member_organizations(user, Action.CHANGE)).order_by(
            "slug"
        )[:21]
    )
    if len(owned) == 1:
        return owned[0]
    if not owned:
        if superuser:
            raise StaError(
                400,
                f"Choose the organization to write in with the header "
                f"{ORGANIZATION_HEADER}: <slug>.",
            )
        raise StaError(403, "You may read but not write: you own no organization.")
    choices = ", ".join(o.slug for o in owned[:20]) + (", …" if len(owned) > 20 else "")
    raise StaError(
        400,
        f"You write in several organizations: choose one with the header "
        f"{ORGANIZATION_HEADER}: <slug> (one of {choices}).",
    )


__all__ = [
    "ORGANIZATION_HEADER",
    "changeable",
    "entity_set",
    "observations_q",
    "public_nodes",
    "referable",
    "visible",
    "writer_organization",
]
