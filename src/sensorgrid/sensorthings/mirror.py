"""The STA rows of SensorGrid's own entities, kept in step with them (docs/sensorthings.md).

===================  ==================================================================
SensorGrid           SensorThings row (``sensorgrid.sensorthings.models``)
===================  ==================================================================
Quantity             ObservedProperty (organization empty: the shared catalogue), name
                     and description from the quantity, definition
                     ``https://sensorgrid.org/quantities/<key>`` (``DEFINITION_BASE``):
                     stable, unique, and the key is readable from it
NodeModel            Sensor, the model's organization (empty for the catalogue)
(no model)           the one shared "Unknown sensor" (organization and node model
                     empty): Sensor of the Datastreams of nodes without a model
Site                 Location (GeoJSON Point from longitude/latitude, bounding box)
Installation         HistoricalLocation (time = start, Locations = the site's Location);
                     the node's active installations give the Thing its current
                     Locations (``Location.things``)
Node                 Thing (same id; the side row ``Thing`` holds the description)
node × quantity      samples Datastream, for the node model's quantities and for every
                     series with data (``telemetry.Latest``): name "<Thing> <quantity>",
                     unit of measurement from the quantity's unit, OM_Measurement
(sample without      the FeatureOfInterest generated from the Location of the site the
 details)            node is (or was last) installed at (``Datastream.sample_feature``;
                     the same one an Observation posted without one gets); all of a
                     node's samples get its current site's, also those from before a move
===================  ==================================================================

Two ways keep them: model signals (``connect()``, from the app's ``ready()``) for edits
made through the ORM, and ``ensure()``, idempotent and cheap when nothing is missing (one
SELECT of EXISTS tests), for what no signal sees: series the ingest writer creates with
raw SQL (a new quantity of a node over MQTT), installations that end or begin as time
passes, rows made before this app. The read side calls ``ensure()`` per request; a data
migration and ``sensorgrid sta sync`` run it for everything.

Edits follow the source: a renamed quantity, site or node model renames its mirror; a
renamed node or quantity renames the samples Datastreams whose name is still the one the
mirror gave them (a name a client set through STA stays), and a node's new model becomes
the Sensor of those Datastreams whose Sensor was the old model's. Deleting a quantity,
node, site or installation deletes its mirrors (foreign-key cascades).
"""

import math
import weakref
from collections.abc import Iterable
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

from django.apps import apps as global_apps
from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.utils import timezone

DEFINITION_BASE = "https://sensorgrid.org/quantities/"
OM_MEASUREMENT = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"
GEOJSON = "application/geo+json"
UCUM = "http://www.opengis.net/def/uom/UCUM/0/"
UNKNOWN_SENSOR = "Unknown sensor"

#: Unit symbols of the quantity registry → (name, UCUM code).
UNITS: dict[str, tuple[str, str]] = {
    "ppm": ("parts per million", "[ppm]"),
    "ppb": ("parts per billion", "[ppb]"),
    "°C": ("degree Celsius", "Cel"),
    "%": ("percent", "%"),
    "hPa": ("hectopascal", "hPa"),
    "µg/m³": ("microgram per cubic metre", "ug/m3"),
    "mg/m³": ("milligram per cubic metre", "mg/m3"),
    "dB(A)": ("decibel (A-weighted)", "dB"),
    "dB": ("decibel", "dB"),
    "dBm": ("decibel-milliwatt", "dB[mW]"),
    "lx": ("lux", "lx"),
    "km/h": ("kilometre per hour", "km/h"),
    "m/s": ("metre per second", "m/s"),
    "°": ("degree", "deg"),
    "°/s": ("degree per second", "deg/s"),
    "m": ("metre", "m"),
    "km": ("kilometre", "km"),
    "mm": ("millimetre", "mm"),
    "V": ("volt", "V"),
    "A": ("ampere", "A"),
    "Hz": ("hertz", "Hz"),
    "W": ("watt", "W"),
    "kWh": ("kilowatt hour", "kW.h"),
    "s": ("second", "s"),
    "g": ("standard gravity", "[g]"),
    "m³/m³": ("cubic metre per cubic metre", "m3/m3"),
    "µS/cm": ("microsiemens per centimetre", "uS/cm"),
    "bar": ("bar", "bar"),
    "W/m²": ("watt per square metre", "W/m2"),
}


# -- the fields a mirror takes from its source -------------------------------------------


def unit_of_measurement(unit: str) -> dict[str, str]:
    """STA's ``unitOfMeasurement`` of a quantity's unit symbol."""
    if not unit:
        return {"name": "dimensionless", "symbol": "", "definition": ""}
    name, code = UNITS.get(unit, (unit, ""))
    return {
        "name": name,
        "symbol": unit,
        "definition": UCUM + quote(code, safe="") if code else "",
    }


def observed_property_fields(quantity) -> dict[str, Any]:
    return {
        "organization_id": None,
        "name": quantity.name,
        "definition": DEFINITION_BASE + quantity.key,
        "description": quantity.description or quantity.name,
        "properties": {"key": quantity.key, "unit": quantity.unit},
    }


def sensor_fields(node_model) -> dict[str, Any]:
    title = f"{node_model.manufacturer} {node_model.name}"
    return {
        "organization_id": node_model.organization_id,
        "name": title,
        "description": f"{title} ({node_model.get_protocol_display()})",
        "encoding_type": "text/plain",
        "metadata": title,
        "properties": {
            "manufacturer": node_model.manufacturer,
            "model": node_model.name,
            "protocol": node_model.protocol,
            "codec": node_model.codec,
            "samplingInterval": node_model.sampling_interval,
        },
    }


def point(longitude: float | None, latitude: float | None) -> dict[str, Any] | None:
    if longitude is None or latitude is None:
        return None
    return {"type": "Point", "coordinates": [longitude, latitude]}


def location_fields(site) -> dict[str, Any]:
    geometry = point(site.longitude, site.latitude)
    min_lon, min_lat, max_lon, max_lat = bbox(geometry) or (None, None, None, None)
    return {
        "organization_id": site.organization_id,
        "name": site.name,
        "description": site.address or site.name,
        "encoding_type": GEOJSON,
        "location": geometry,
        "properties": {"address": site.address} if site.address else None,
        "min_lon": min_lon,
        "min_lat": min_lat,
        "max_lon": max_lon,
        "max_lat": max_lat,
    }


def thing_name(node) -> str:
    """A Thing's name: the node's alias, else "Thing <id>" (schema.THINGS), never the
    device id: a public installation makes the Thing readable by everybody, and it
    publishes the node's values, not the node (device ids are in MQTT topics)."""
    return default_thing_name(node.alias, node.pk)


def default_thing_name(alias: str, pk: int) -> str:
    return alias or f"Thing {pk}"


def datastream_name(node_name: str, quantity_name: str) -> str:
    return f"{node_name} {quantity_name}"[:200]


def datastream_fields(node, quantity, sensor_id: int, observed_property_id: int) -> dict:
    name = datastream_name(thing_name(node), quantity.name)
    return {
        "organization_id": node.organization_id,
        "node_id": node.pk,
        "quantity_id": quantity.pk,
        "store": "samples",
        "sensor_id": sensor_id,
        "observed_property_id": observed_property_id,
        "name": name,
        "description": f"{quantity.name} measured by {thing_name(node)}",
        "observation_type": OM_MEASUREMENT,
        "unit_of_measurement": unit_of_measurement(quantity.unit),
    }


# -- bounding boxes (also for Locations and FeaturesOfInterest written through STA) --------


def bbox(geojson: Any) -> tuple[float, float, float, float] | None:
    """``(min_lon, min_lat, max_lon, max_lat)`` of any GeoJSON geometry, Feature or
    FeatureCollection (positions' first two numbers), None when it has no position.

    Never raises: malformed input (wrong types, non-finite numbers) gives None; validating
    GeoJSON is the writer's part.
    """
    xs: list[float] = []
    ys: list[float] = []

    def positions(value: Any, depth: int = 0) -> None:
        if depth > 64 or not isinstance(value, list | tuple):
            return
        if len(value) >= 2 and all(_number(v) for v in value[:2]):
            xs.append(float(value[0]))
            ys.append(float(value[1]))
            return
        for item in value:
            positions(item, depth + 1)

    def walk(value: Any, depth: int = 0) -> None:
        if depth > 32 or not isinstance(value, dict):
            return
        kind = value.get("type")
        if kind == "Feature":
            walk(value.get("geometry"), depth + 1)
        elif kind == "FeatureCollection":
            for feature in value.get("features") or []:
                walk(feature, depth + 1)
        elif kind == "GeometryCollection":
            for geometry in value.get("geometries") or []:
                walk(geometry, depth + 1)
        else:
            positions(value.get("coordinates"))

    walk(geojson)
    if not xs:
        return None
    return min(xs), min(ys), max(xs), max(ys)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def bbox_fields(geojson: Any) -> dict[str, float | None]:
    """The ``min_lon``… columns of a Location or FeatureOfInterest for ``geojson``."""
    box = bbox(geojson)
    keys = ("min_lon", "min_lat", "max_lon", "max_lat")
    return dict(zip(keys, box or (None, None, None, None), strict=True))


# -- models: the project's, or a migration's historical ones --------------------------------


def _models(apps=None) -> SimpleNamespace:
    apps = apps or global_apps
    get = apps.get_model
    return SimpleNamespace(
        apps=apps,
        Quantity=get("inventory", "Quantity"),
        NodeModel=get("inventory", "NodeModel"),
        Node=get("inventory", "Node"),
        Site=get("inventory", "Site"),
        Installation=get("inventory", "Installation"),
        Latest=get("telemetry", "Latest"),
        Thing=get("sensorthings", "Thing"),
        ObservedProperty=get("sensorthings", "ObservedProperty"),
        Sensor=get("sensorthings", "Sensor"),
        Location=get("sensorthings", "Location"),
        HistoricalLocation=get("sensorthings", "HistoricalLocation"),
        Datastream=get("sensorthings", "Datastream"),
        FeatureOfInterest=get("sensorthings", "FeatureOfInterest"),
    )


def unknown_sensor(apps=None) -> int:
    """The id of the shared "Unknown sensor" (made when missing)."""
    m = _models(apps)
    found = (
        m.Sensor.objects.filter(organization__isnull=True, node_model__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )
    if found is not None:
        return found
    sensor = m.Sensor.objects.create(
        organization=None,
        node_model=None,
        name=UNKNOWN_SENSOR,
        description="The sensor of a node whose model is not registered.",
        encoding_type="text/plain",
        metadata=UNKNOWN_SENSOR,
    )
    return sensor.pk


# -- ensure(): what is missing, in one SELECT; then only that is made ----------------------


def _scoped(qs: QuerySet, lookup: str, organization_ids) -> QuerySet:
    if organization_ids is None:
        return qs
    return qs.filter(**{f"{lookup}__in": organization_ids})


def _active(m, now: datetime) -> QuerySet:
    return m.Installation.objects.filter(start__lte=now).filter(
        Q(end__isnull=True) | Q(end__gt=now)
    )


def _checks(m, organization_ids, now: datetime) -> dict[str, QuerySet]:
    """Querysets of what is missing or stale, one per kind (empty when all is in step)."""
    samples = m.Datastream.objects.filter(store="samples")
    through = m.NodeModel.quantities.through
    current = m.Location.things.through
    nodes = _scoped(m.Node.objects.all(), "organization_id", organization_ids)
    active = _active(m, now)
    return {
        "observed_properties": m.Quantity.objects.filter(sta__isnull=True),
        "sensors": m.NodeModel.objects.filter(sta__isnull=True).filter(
            Q(organization__isnull=True)
            | Q(pk__in=_scoped(m.NodeModel.objects.all(), "organization_id", organization_ids))
        ),
        "locations": _scoped(
            m.Site.objects.filter(sta__isnull=True), "organization_id", organization_ids
        ),
        "things": nodes.filter(sta__isnull=True),
        "historical_locations": _scoped(
            m.Installation.objects.filter(sta__isnull=True),
            "node__organization_id",
            organization_ids,
        ),
        "series": m.Latest.objects.filter(node_id__in=nodes.values("pk")).filter(
            ~Exists(
                samples.filter(node_id=OuterRef("node_id"), quantity_id=OuterRef("quantity_id"))
            )
        ),
        "model_series": nodes.filter(
            Exists(
                through.objects.filter(nodemodel_id=OuterRef("model_id")).filter(
                    ~Exists(
                        samples.filter(
                            node_id=OuterRef(OuterRef("pk")), quantity_id=OuterRef("quantity_id")
                        )
                    )
                )
            )
        ),
        "current_missing": active.filter(node_id__in=nodes.values("pk")).filter(
            ~Exists(
                current.objects.filter(
                    node_id=OuterRef("node_id"), location__site_id=OuterRef("room__site_id")
                )
            )
        ),
        "sample_features": _sample_features_stale(m, samples, nodes),
        "current_stale": current.objects.filter(
            location__site__isnull=False, node_id__in=nodes.values("pk")
        ).filter(
            ~Exists(
                active.filter(
                    node_id=OuterRef("node_id"), room__site_id=OuterRef("location__site_id")
                )
            )
        ),
    }


#: A time no caller passes: compiled in place of ``now``, then swapped for the real one.
_PLACEHOLDER_NOW = datetime(2000, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
#: (database alias, vendor) → (SQL, params, positions of ``now`` in params): the query of
#: ``missing()`` for every organization, compiled once per process (compiling the nine
#: querysets costs more than running them).
_COMPILED: dict[tuple[str, str], tuple[list[str], str, list, list[int]]] = {}


def _compile(m, organization_ids, now: datetime) -> tuple[list[str], str, list]:
    checks = _checks(m, organization_ids, now)
    parts, params = [], []
    for qs in checks.values():
        one = qs.order_by().annotate(sta_one=Value(1)).values("sta_one")
        try:
            sql, p = one.query.sql_with_params()
        except EmptyResultSet:  # a check that does not apply (an older schema)
            parts.append("(1 = 0)")
            continue
        parts.append(f"EXISTS ({sql})")
        params.extend(p)
    return list(checks), "SELECT " + ", ".join(parts), params


def _sample_features_stale(m, samples: QuerySet, nodes: QuerySet) -> QuerySet:
    """Samples Datastreams whose node is at a site now and whose ``sample_feature`` is
    not that site's FeatureOfInterest (a node without installation keeps its last one)."""
    if not _has_sample_feature(m):
        return samples.none()  # a migration before 0007 (the backfill in 0003)
    at_site = m.Location.things.through.objects.filter(location__site__isnull=False)
    return (
        samples.filter(node_id__in=nodes.values("pk"))
        .filter(Exists(at_site.filter(node_id=OuterRef("node_id"))))
        .filter(
            ~Exists(
                at_site.filter(
                    node_id=OuterRef("node_id"), location__feature=OuterRef("sample_feature_id")
                )
            )
        )
    )


def _has_sample_feature(m) -> bool:
    return any(f.name == "sample_feature" for f in m.Datastream._meta.get_fields())


def feature_of_location(location, apps=None):
    """The FeatureOfInterest generated from ``location`` (made once, then reused: the
    rule of Observations posted without one, write.observations.generated_feature)."""
    m = _models(apps)
    feature, _ = m.FeatureOfInterest.objects.get_or_create(
        location_id=location.pk,
        defaults={
            "organization_id": location.organization_id,
            "name": location.name,
            "description": location.description,
            "encoding_type": location.encoding_type or GEOJSON,
            "feature": location.location,
            "min_lon": location.min_lon,
            "min_lat": location.min_lat,
            "max_lon": location.max_lon,
            "max_lat": location.max_lat,
        },
    )
    return feature


def _sample_features(m, stale: QuerySet) -> None:
    """Point each of the ``stale`` samples Datastreams at its node's site's feature."""
    if not _has_sample_feature(m):
        return
    at_site = m.Location.things.through.objects.filter(location__site__isnull=False)
    rows = list(stale.values_list("pk", "node_id"))
    if not rows:
        return
    newest: dict[int, int] = {}
    for node_id, location_id in at_site.filter(
        node_id__in={node_id for _, node_id in rows}
    ).values_list("node_id", "location_id"):
        newest[node_id] = max(location_id, newest.get(node_id, 0))
    locations = m.Location.objects.in_bulk(set(newest.values()))
    features = {pk: feature_of_location(loc, m.apps).pk for pk, loc in locations.items()}
    by_feature: dict[int, list[int]] = {}
    for pk, node_id in rows:
        if node_id in newest:
            by_feature.setdefault(features[newest[node_id]], []).append(pk)
    for feature_id, pks in by_feature.items():
        m.Datastream.objects.filter(pk__in=pks).update(sample_feature_id=feature_id)


def missing(
    organization_ids: Iterable[int] | QuerySet | None = None, now=None, apps=None
) -> set[str]:
    """What ``ensure`` would make or repair, by kind (one SELECT)."""
    now = now or timezone.now()
    kinds: list[str]
    if organization_ids is None and apps is None:
        key = (connection.alias, connection.vendor)
        if key not in _COMPILED:
            kinds, sql, params = _compile(_models(), None, _PLACEHOLDER_NOW)
            placeholders = {
                _PLACEHOLDER_NOW,
                connection.ops.adapt_datetimefield_value(_PLACEHOLDER_NOW),
            }
            at = [i for i, p in enumerate(params) if _hashable(p) and p in placeholders]
            _COMPILED[key] = (kinds, sql, params, at)
        kinds, sql, params, at = _COMPILED[key]
        params = list(params)
        adapted = connection.ops.adapt_datetimefield_value(now)
        for i in at:
            params[i] = now if isinstance(params[i], datetime) else adapted
        row = _fetch_prepared(sql, params, at)
    else:
        kinds, sql, params = _compile(_models(apps), organization_ids, now)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
    return {kind for kind, flag in zip(kinds, row, strict=True) if flag}


def _fetch_prepared(sql: str, params: list, at: list[int]) -> tuple:
    """The one row of ``sql``; on PostgreSQL a prepared statement of the connection,
    with the times at positions ``at`` of ``params`` as its parameter.

    Django binds parameters on the client, so PostgreSQL planned the probe's EXISTS
    tests anew on every request: 7 ms of planning against 0.9 ms of execution at a load
    average of 6 (docs/performance.md). Prepared once per connection (kept by the pool),
    it is planned a few times, then runs a generic plan. Prepared statements belong to
    the session and outlive a rollback; PgBouncer fits in session mode only, as for the
    batch writer (docs/deployment.md)."""
    prepared = _prepared_statement(sql, params, at)
    with connection.cursor() as cursor:
        if prepared is None:
            cursor.execute(sql, params)
        else:
            native = connection.connection
            execute = f"EXECUTE {_PREPARED_NAME}(%s)"
            if native in _PREPARED_ON:
                cursor.execute(execute, [params[at[0]]])
            else:  # one statement as always: prepared and executed in one round trip
                cursor.execute(f"{prepared.replace('%', '%%')}; {execute}", [params[at[0]]])
                cursor.nextset()
                _PREPARED_ON.add(native)
        return cursor.fetchone()


_PREPARED_NAME = "sensorgrid_sta_missing"
#: The database connections (psycopg's) that hold the prepared probe.
_PREPARED_ON: "weakref.WeakSet[Any]" = weakref.WeakSet()


def _prepared_statement(sql: str, params: list, at: list[int]) -> str | None:
    """``PREPARE`` of ``sql`` with its constants written in and the time as ``$1``
    (PostgreSQL); None where that does not apply."""
    pieces = sql.split("%s")
    if connection.vendor != "postgresql" or not at or "%%" in sql or len(pieces) != len(params) + 1:
        return None
    text = [pieces[0]]
    for i, (param, piece) in enumerate(zip(params, pieces[1:], strict=True)):
        # compose_sql: PostgreSQL's operations only (checked above)
        literal = connection.ops.compose_sql("%s", [param])  # type: ignore[attr-defined]
        text.append("$1::timestamptz" if i in at else literal)
        text.append(piece)
    return f"PREPARE {_PREPARED_NAME} AS {''.join(text)}"


def _hashable(value) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def ensure(
    organization_ids: Iterable[int] | QuerySet | None = None, now=None, apps=None
) -> set[str]:
    """Make every missing mirror (of ``organization_ids``' rows, or of all), and bring the
    Things' current Locations in line with the active installations at ``now``.

    Idempotent; one SELECT when nothing is missing (measured in docs/sensorthings.md).
    Returns the kinds it had to repair (empty: all was in step).
    """
    now = now or timezone.now()
    todo = missing(organization_ids, now, apps)
    if not todo:
        return todo
    m = _models(apps)
    checks = _checks(m, organization_ids, now)
    with transaction.atomic():
        if "observed_properties" in todo:
            m.ObservedProperty.objects.bulk_create(
                [
                    m.ObservedProperty(quantity_id=q.pk, **observed_property_fields(q))
                    for q in checks["observed_properties"]
                ],
                ignore_conflicts=True,
            )
        if "sensors" in todo:
            m.Sensor.objects.bulk_create(
                [m.Sensor(node_model_id=nm.pk, **sensor_fields(nm)) for nm in checks["sensors"]],
                ignore_conflicts=True,
            )
        if "locations" in todo:
            m.Location.objects.bulk_create(
                [m.Location(site_id=s.pk, **location_fields(s)) for s in checks["locations"]],
                ignore_conflicts=True,
            )
        if "things" in todo:
            m.Thing.objects.bulk_create(
                [m.Thing(node_id=pk) for pk in checks["things"].values_list("pk", flat=True)],
                ignore_conflicts=True,
            )
        if "historical_locations" in todo:
            for installation in checks["historical_locations"].select_related("node", "room"):
                _historical_location(m, installation)
        pairs: set[tuple[int, int]] = set()
        if "series" in todo:
            pairs |= set(checks["series"].values_list("node_id", "quantity_id"))
        if "model_series" in todo:
            through = m.NodeModel.quantities.through
            for node_id, model_id in checks["model_series"].values_list("pk", "model_id"):
                quantities = through.objects.filter(nodemodel_id=model_id)
                pairs |= {(node_id, q) for q in quantities.values_list("quantity_id", flat=True)}
        if pairs:
            _create_datastreams(m, pairs)
        if "current_missing" in todo or "current_stale" in todo:
            _current_locations(m, checks)
        if todo & {"current_missing", "current_stale", "series", "model_series", "sample_features"}:
            _sample_features(m, _checks(m, organization_ids, now)["sample_features"])
    return todo


def refresh(apps=None) -> dict[str, int]:
    """Rewrite every mirror's fields from its source, for edits no signal saw
    (``QuerySet.update``, raw SQL, a restored backup): ObservedProperties, Sensors,
    Locations, HistoricalLocations and the samples Datastreams' units. Names of Datastreams
    stay (a client may have set them). Returns how many rows of each kind it rewrote;
    run after ``ensure`` (``sensorgrid sta sync``)."""
    m = _models(apps)
    counts = {"observed_properties": 0, "sensors": 0, "locations": 0, "historical_locations": 0}
    with transaction.atomic():
        for q in m.Quantity.objects.all():
            counts["observed_properties"] += m.ObservedProperty.objects.filter(
                quantity_id=q.pk
            ).update(**observed_property_fields(q))
            m.Datastream.objects.filter(quantity_id=q.pk, store="samples").update(
                unit_of_measurement=unit_of_measurement(q.unit)
            )
        for nm in m.NodeModel.objects.all():
            counts["sensors"] += m.Sensor.objects.filter(node_model_id=nm.pk).update(
                **sensor_fields(nm)
            )
        for site in m.Site.objects.all():
            counts["locations"] += m.Location.objects.filter(site_id=site.pk).update(
                **location_fields(site)
            )
        for installation in m.Installation.objects.select_related("node", "room"):
            _historical_location(m, installation)
            counts["historical_locations"] += 1
        # a node's STA rows belong to the node's organization
        node_organization = m.Node.objects.filter(pk=OuterRef("node_id")).values("organization_id")[
            :1
        ]
        for model in (m.Datastream, m.HistoricalLocation):
            model.objects.exclude(organization_id=Subquery(node_organization)).update(
                organization_id=Subquery(node_organization)
            )
    return counts


def _create_datastreams(m, pairs: set[tuple[int, int]]) -> None:
    """Samples Datastreams for ``pairs`` of (node id, quantity id) that have none."""
    node_ids = {n for n, _ in pairs}
    quantity_ids = {q for _, q in pairs}
    nodes = {n.pk: n for n in m.Node.objects.filter(pk__in=node_ids)}
    quantities = {q.pk: q for q in m.Quantity.objects.filter(pk__in=quantity_ids)}
    # Mirrors of the quantities and models first (a series of a new quantity).
    for q in quantities.values():
        if not m.ObservedProperty.objects.filter(quantity_id=q.pk).exists():
            m.ObservedProperty.objects.get_or_create(
                quantity_id=q.pk, defaults=observed_property_fields(q)
            )
    properties = dict(
        m.ObservedProperty.objects.filter(quantity_id__in=quantity_ids).values_list(
            "quantity_id", "pk"
        )
    )
    model_ids = {n.model_id for n in nodes.values() if n.model_id is not None}
    for nm in m.NodeModel.objects.filter(pk__in=model_ids, sta__isnull=True):
        m.Sensor.objects.get_or_create(node_model_id=nm.pk, defaults=sensor_fields(nm))
    sensors = dict(
        m.Sensor.objects.filter(node_model_id__in=model_ids).values_list("node_model_id", "pk")
    )
    existing = set(
        m.Datastream.objects.filter(store="samples", node_id__in=node_ids).values_list(
            "node_id", "quantity_id"
        )
    )
    unknown: int | None = None
    rows = []
    for node_id, quantity_id in sorted(pairs - existing):
        node, quantity = nodes.get(node_id), quantities.get(quantity_id)
        if node is None or quantity is None:
            continue  # a series of a deleted node or quantity
        sensor_id = sensors.get(node.model_id)
        if sensor_id is None:
            unknown = unknown or unknown_sensor(m.apps)
            sensor_id = unknown
        rows.append(
            m.Datastream(**datastream_fields(node, quantity, sensor_id, properties[quantity_id]))
        )
    m.Datastream.objects.bulk_create(rows, ignore_conflicts=True)
    stale = _checks(m, None, timezone.now())["sample_features"]
    _sample_features(m, stale.filter(node_id__in=node_ids))


def _current_locations(m, checks: dict[str, QuerySet]) -> None:
    current = m.Location.things.through
    checks["current_stale"].delete()
    wanted = set(checks["current_missing"].values_list("node_id", "room__site_id"))
    if not wanted:
        return
    locations = dict(
        m.Location.objects.filter(site_id__in={s for _, s in wanted}).values_list("site_id", "pk")
    )
    current.objects.bulk_create(
        [
            current(node_id=node_id, location_id=locations[site_id])
            for node_id, site_id in wanted
            if site_id in locations
        ],
        ignore_conflicts=True,
    )


def _historical_location(m, installation) -> None:
    location = m.Location.objects.filter(site_id=installation.room.site_id).first()
    hl, _ = m.HistoricalLocation.objects.update_or_create(
        installation_id=installation.pk,
        defaults={
            "organization_id": installation.node.organization_id,
            "node_id": installation.node_id,
            "time": installation.start,
        },
    )
    hl.locations.set([location] if location is not None else [])


# -- signals: edits through the ORM show at once ---------------------------------------------

_BEFORE = "_sta_mirror_before"


def quantity_saving(sender, instance, raw=False, **kwargs) -> None:
    if raw or instance.pk is None:
        return
    instance.__dict__[_BEFORE] = sender.objects.filter(pk=instance.pk).values("name").first()


def quantity_saved(sender, instance, raw=False, **kwargs) -> None:
    if raw:
        return
    from sensorgrid.sensorthings.models import Datastream, ObservedProperty

    ObservedProperty.objects.update_or_create(
        quantity=instance, defaults=observed_property_fields(instance)
    )
    before = instance.__dict__.pop(_BEFORE, None)
    datastreams = Datastream.objects.filter(quantity=instance, store="samples")
    datastreams.update(unit_of_measurement=unit_of_measurement(instance.unit))
    if before and before["name"] != instance.name:
        for ds in datastreams.select_related("node"):
            if ds.name == datastream_name(thing_name(ds.node), before["name"]):
                ds.name = datastream_name(thing_name(ds.node), instance.name)
                ds.description = f"{instance.name} measured by {thing_name(ds.node)}"
                ds.save(update_fields=["name", "description"])


def node_model_saved(sender, instance, raw=False, **kwargs) -> None:
    if raw:
        return
    from sensorgrid.sensorthings.models import Sensor

    Sensor.objects.update_or_create(node_model=instance, defaults=sensor_fields(instance))


def node_model_quantities_changed(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    if action != "post_add":
        return
    from sensorgrid.inventory.models import Node, NodeModel

    if reverse:  # quantity.node_models.add(model…)
        models = NodeModel.objects.filter(pk__in=pk_set)
        quantities = [instance.pk]
    else:
        models = NodeModel.objects.filter(pk=instance.pk)
        quantities = list(pk_set or ())
    nodes = Node.objects.filter(model__in=models).values_list("pk", flat=True)
    pairs = {(n, q) for n in nodes for q in quantities}
    if pairs:
        _create_datastreams(_models(), pairs)


def site_saved(sender, instance, raw=False, **kwargs) -> None:
    if raw:
        return
    from sensorgrid.sensorthings.models import Location

    Location.objects.update_or_create(site=instance, defaults=location_fields(instance))


#: The node's fields its mirrors depend on: a save of others (a credential) skips them.
_NODE_FIELDS = {"alias", "device_id", "model", "model_id", "organization", "organization_id"}


def node_saving(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    if raw or instance.pk is None:
        return
    if update_fields is not None and not _NODE_FIELDS & set(update_fields):
        return
    before = (
        sender.objects.filter(pk=instance.pk)
        .values("alias", "device_id", "model_id", "organization_id")
        .first()
    )
    instance.__dict__[_BEFORE] = before


def node_saved(sender, instance, created, raw=False, update_fields=None, **kwargs) -> None:
    if raw or (update_fields is not None and not _NODE_FIELDS & set(update_fields)):
        return
    from sensorgrid.sensorthings.models import Datastream, HistoricalLocation, Sensor, Thing

    m = _models()
    before = instance.__dict__.pop(_BEFORE, None)
    Thing.objects.get_or_create(node=instance)
    if instance.model_id is not None:
        through = m.NodeModel.quantities.through
        quantities = through.objects.filter(nodemodel_id=instance.model_id)
        pairs = {(instance.pk, q) for q in quantities.values_list("quantity_id", flat=True)}
        if pairs:
            _create_datastreams(m, pairs)
    if before is None:
        return
    if before["organization_id"] != instance.organization_id:
        # a node moved to another organization takes its STA rows along (never leaves
        # them readable by the old one)
        Datastream.objects.filter(node=instance).update(organization_id=instance.organization_id)
        HistoricalLocation.objects.filter(node=instance).update(
            organization_id=instance.organization_id
        )
    old_name = default_thing_name(before["alias"], instance.pk)
    datastreams = Datastream.objects.filter(node=instance, store="samples", quantity__isnull=False)
    if old_name != thing_name(instance):
        for ds in datastreams.select_related("quantity"):
            if ds.name == datastream_name(old_name, ds.quantity.name):
                ds.name = datastream_name(thing_name(instance), ds.quantity.name)
                ds.description = f"{ds.quantity.name} measured by {thing_name(instance)}"
                ds.save(update_fields=["name", "description"])
    if before["model_id"] != instance.model_id:
        old = (
            Sensor.objects.filter(node_model_id=before["model_id"]).values("pk")
            if before["model_id"] is not None
            else Sensor.objects.filter(organization__isnull=True, node_model__isnull=True)
        )
        new = (
            Sensor.objects.filter(node_model_id=instance.model_id)
            .values_list("pk", flat=True)
            .first()
            if instance.model_id is not None
            else unknown_sensor()
        )
        if new is not None:
            datastreams.filter(sensor__in=old).update(sensor_id=new)


def installation_saved(sender, instance, raw=False, **kwargs) -> None:
    if raw:
        return
    m = _models()
    installation = m.Installation.objects.select_related("node", "room").get(pk=instance.pk)
    _historical_location(m, installation)
    _refresh_current(m, instance.node_id)


def installation_deleted(sender, instance, **kwargs) -> None:
    m = _models()
    if m.Node.objects.filter(pk=instance.node_id).exists():
        _refresh_current(m, instance.node_id)


def _refresh_current(m, node_id: int) -> None:
    checks = _checks(m, None, timezone.now())
    _current_locations(
        m,
        {
            "current_stale": checks["current_stale"].filter(node_id=node_id),
            "current_missing": checks["current_missing"].filter(node_id=node_id),
        },
    )
    stale = _checks(m, None, timezone.now())["sample_features"].filter(node_id=node_id)
    _sample_features(m, stale)


def connect() -> None:
    """Connect the receivers (``SensorThingsConfig.ready()``)."""
    from sensorgrid.inventory.models import Installation, Node, NodeModel, Quantity, Site

    uid = "sensorthings.mirror."
    pre_save.connect(quantity_saving, sender=Quantity, dispatch_uid=uid + "quantity_saving")
    post_save.connect(quantity_saved, sender=Quantity, dispatch_uid=uid + "quantity")
    post_save.connect(node_model_saved, sender=NodeModel, dispatch_uid=uid + "node_model")
    m2m_changed.connect(
        node_model_quantities_changed,
        sender=NodeModel.quantities.through,
        dispatch_uid=uid + "node_model_quantities",
    )
    post_save.connect(site_saved, sender=Site, dispatch_uid=uid + "site")
    pre_save.connect(node_saving, sender=Node, dispatch_uid=uid + "node_saving")
    post_save.connect(node_saved, sender=Node, dispatch_uid=uid + "node")
    post_save.connect(installation_saved, sender=Installation, dispatch_uid=uid + "installation")
    post_delete.connect(
        installation_deleted, sender=Installation, dispatch_uid=uid + "installation_deleted"
    )
