"""Observations in both stores (docs/sensorthings.md, "Observations").

- samples store (a Datastream of a node × registered quantity): the result must be a
  number; it becomes a sample through the ingest pipeline (``samples.ingest``), so
  rollups, latest values, health, alerts and the live view see it. What a sample has no
  column for (the FeatureOfInterest, resultTime, validTime, parameters, resultQuality,
  the end of an interval) goes to ``SampleDetails``. A series holds one value per time:
  a second Observation at the same time is refused with 409.
- observations store: an ``Observation`` row; the result is kept as JSON of any type.

An Observation without a FeatureOfInterest gets the one generated from its Thing's
current Location (made once per Location, then reused); a Thing without a Location
cannot take such an Observation (400, as FROST-Server).
"""

import json
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sensorgrid.inventory.models import Installation, Node
from sensorgrid.sensorthings import ids
from sensorgrid.sensorthings import models as sta
from sensorgrid.sensorthings.errors import StaError
from sensorgrid.sensorthings.query import functions as sf
from sensorgrid.sensorthings.write import entities, samples
from sensorgrid.sensorthings.write import values as v
from sensorgrid.telemetry.models import Sample


@dataclass(slots=True)
class Fields:
    phenomenon_time: datetime
    phenomenon_time_end: datetime | None = None
    result: Any = None
    result_time: datetime | None = None
    valid_time_start: datetime | None = None
    valid_time_end: datetime | None = None
    parameters: dict[str, Any] | None = None
    result_quality: Any = None


def parse(body: dict[str, Any], base: Fields | None, replace: bool, now: datetime) -> Fields:
    """The Observation ``body`` describes; on update, ``base`` gives the stored fields
    (PATCH keeps what the body leaves out, PUT resets the optional ones)."""
    keep = base is not None and not replace
    if base is None and "result" not in body:
        raise StaError(400, "Missing mandatory property 'result'.")
    if replace and "result" not in body:
        raise StaError(400, "Missing mandatory property 'result'.")
    fields = Fields(base.phenomenon_time if base else now)
    if keep:
        assert base is not None
        fields = Fields(**{name: getattr(base, name) for name in Fields.__slots__})  # type: ignore[attr-defined]
    if body.get("phenomenonTime") is not None:
        fields.phenomenon_time, fields.phenomenon_time_end = v.instant_or_interval(
            "phenomenonTime", body["phenomenonTime"]
        )
    elif "phenomenonTime" in body:  # null: the spec's default, now
        fields.phenomenon_time, fields.phenomenon_time_end = now, None
    if "result" in body:
        fields.result = body["result"]
    if "resultTime" in body:
        value = body["resultTime"]
        fields.result_time = None if value is None else v.instant("resultTime", value)
    elif replace:
        fields.result_time = None
    if "validTime" in body:
        value = body["validTime"]
        fields.valid_time_start, fields.valid_time_end = (
            (None, None) if value is None else v.interval("validTime", value)
        )
    elif replace:
        fields.valid_time_start = fields.valid_time_end = None
    if "parameters" in body:
        fields.parameters = v.json_object("parameters", body["parameters"])
    elif replace:
        fields.parameters = None
    if "resultQuality" in body:
        fields.result_quality = body["resultQuality"]
    elif replace:
        fields.result_quality = None
    return fields


def create(
    datastream: sta.Datastream,
    body: dict[str, Any],
    feature: sta.FeatureOfInterest | None,
    now: datetime,
) -> sta.ObservationRow:
    entities.check_keys("Observations", "Observation", body)
    fields = parse(body, None, False, now)
    if feature is None:
        feature = generated_feature(datastream.node)
    return store(datastream, fields, feature)


def store(
    datastream: sta.Datastream, fields: Fields, feature: sta.FeatureOfInterest
) -> sta.ObservationRow:
    """Write one Observation into its Datastream's store; the row as the view has it."""
    extend_observed_area(datastream, [feature])
    if datastream.store == sta.Store.SAMPLES:
        assert datastream.quantity_id is not None
        value = number(datastream, fields.result)
        ids.encode_sample(datastream.pk, fields.phenomenon_time)  # 400 for unencodable times
        node, quantity = datastream.node, datastream.quantity
        assert quantity is not None
        samples.ingest(node, quantity, fields.phenomenon_time, value, f"Datastream {datastream.pk}")
        # update_or_create: details left behind by a sample that retention pruned
        sta.SampleDetails.objects.update_or_create(
            node_id=node.pk,
            quantity_id=datastream.quantity_id,
            ts=fields.phenomenon_time,
            defaults={
                "feature_of_interest": feature,
                "phenomenon_time_end": fields.phenomenon_time_end,
                "result_time": fields.result_time,
                "valid_time_start": fields.valid_time_start,
                "valid_time_end": fields.valid_time_end,
                "parameters": fields.parameters,
                "result_quality": fields.result_quality,
            },
        )
        return row(datastream, fields, feature, sample_value=value)
    observation = sta.Observation.objects.create(
        datastream=datastream,
        feature_of_interest=feature,
        phenomenon_time=fields.phenomenon_time,
        phenomenon_time_end=fields.phenomenon_time_end,
        result=fields.result,
        result_time=fields.result_time,
        valid_time_start=fields.valid_time_start,
        valid_time_end=fields.valid_time_end,
        parameters=fields.parameters,
        result_quality=fields.result_quality,
    )
    ids.encode_observation(datastream.pk, observation.pk)
    return row(datastream, fields, feature, observation=observation)


def extend_observed_area(
    datastream: sta.Datastream, features: list[sta.FeatureOfInterest | None]
) -> None:
    """A Datastream's observedArea is the convex hull of its Observations' features of
    interest (as FROST-Server keeps it): widened when a new Observation's feature lies
    outside it (one UPDATE then; none for the usual feature already inside). Without the
    geo extra (shapely) it is left as it is."""
    if not any(f is not None and isinstance(f.feature, dict) for f in features):
        return
    try:
        area = sf.stored_geometry(datastream.observed_area)
    except StaError:  # 501: shapely is not installed
        return
    grown = area
    for feature in {f.pk: f for f in features if f is not None}.values():
        geometry = sf.stored_geometry(feature.feature)
        if geometry is None or (grown is not None and grown.covers(geometry)):
            continue
        grown = geometry if grown is None else grown.union(geometry).convex_hull
    if grown is None or grown is area:
        return
    from shapely.geometry import mapping

    datastream.observed_area = json.loads(json.dumps(mapping(grown)))  # tuples → lists
    sta.Datastream.objects.filter(pk=datastream.pk).update(observed_area=datastream.observed_area)


def number(datastream: sta.Datastream, result: Any) -> float:
    try:
        finite = isinstance(result, int | float) and math.isfinite(result)
    except OverflowError:  # an integer beyond the float range
        finite = False
    if isinstance(result, bool) or not finite:
        name = datastream.observed_property.name
        raise StaError(
            400,
            f"result: Datastream {datastream.pk} ({name}) is numeric and takes only numbers, "
            f"not {result!r}.",
        )
    return float(result)


def row(
    datastream: sta.Datastream,
    fields: Fields,
    feature: sta.FeatureOfInterest | None,
    *,
    sample_value: float | None = None,
    observation: sta.Observation | None = None,
) -> sta.ObservationRow:
    """The Observation as the ``sensorthings_observation_row`` view shows it."""
    if observation is not None:
        pk = ids.encode_observation(datastream.pk, observation.pk)
        result = fields.result
        result_number = (
            float(result)
            if isinstance(result, int | float) and not isinstance(result, bool)
            else None
        )
    else:
        pk = ids.encode_sample(datastream.pk, fields.phenomenon_time)
        result, result_number = None, sample_value
    return sta.ObservationRow(
        id=pk,
        datastream=datastream,
        organization_id=datastream.organization_id,
        feature_of_interest=feature,
        node_id=None if observation else datastream.node_id,
        quantity_id=None if observation else datastream.quantity_id,
        observation_id=observation.pk if observation else None,
        phenomenon_time=fields.phenomenon_time,
        phenomenon_time_end=fields.phenomenon_time_end,
        result_number=result_number,
        result=result,
        result_time=fields.result_time,
        valid_time_start=fields.valid_time_start,
        valid_time_end=fields.valid_time_end,
        parameters=fields.parameters,
        result_quality=fields.result_quality,
    )


@dataclass(slots=True)
class Stored:
    """An existing Observation, read from its store (locked for the change)."""

    datastream: sta.Datastream
    fields: Fields
    feature: sta.FeatureOfInterest | None
    observation: sta.Observation | None = None
    sample_ts: datetime | None = None


def load(observation_id: int) -> Stored:
    """The Observation with ``@iot.id`` ``observation_id``; 404 if there is none."""
    located = ids.locate(observation_id)
    if located is None:
        raise StaError(404, f"No Observation with id {observation_id}.")
    datastream = (
        sta.Datastream.objects.select_for_update(of=("self",))
        .select_related("node", "observed_property", "quantity")
        .get(pk=located.datastream_id)
    )
    if located.sample is not None:
        sample = (
            Sample.objects.filter(**located.sample)
            .order_by("ts")
            .values_list("ts", "value")
            .first()
        )
        if sample is None:
            raise StaError(404, f"No Observation with id {observation_id}.")
        ts, value = sample
        details = (
            sta.SampleDetails.objects.filter(
                node_id=datastream.node_id, quantity_id=datastream.quantity_id, ts=ts
            )
            .select_related("feature_of_interest")
            .first()
        )
        fields = Fields(ts, result=value)
        feature = None
        if details is not None:
            feature = details.feature_of_interest
            fields.phenomenon_time_end = details.phenomenon_time_end
            fields.result_time = details.result_time
            fields.valid_time_start = details.valid_time_start
            fields.valid_time_end = details.valid_time_end
            fields.parameters = details.parameters
            fields.result_quality = details.result_quality
        return Stored(datastream, fields, feature, sample_ts=ts)
    found = (
        sta.Observation.objects.select_for_update(of=("self",))
        .filter(pk=located.observation_id or 0, datastream_id=located.datastream_id)
        .select_related("feature_of_interest")
        .first()
    )
    if found is None:
        raise StaError(404, f"No Observation with id {observation_id}.")
    fields = Fields(
        found.phenomenon_time,
        found.phenomenon_time_end,
        found.result,
        found.result_time,
        found.valid_time_start,
        found.valid_time_end,
        found.parameters,
        found.result_quality,
    )
    return Stored(datastream, fields, found.feature_of_interest, observation=found)


def remove(stored: Stored) -> None:
    """Delete a stored Observation (a sample: with its details, rollups corrected)."""
    if stored.observation is not None:
        stored.observation.delete()
        return
    datastream = stored.datastream
    assert stored.sample_ts is not None and datastream.quantity_id is not None
    samples.delete(datastream.node_id, datastream.quantity_id, [stored.sample_ts])
    sta.SampleDetails.objects.filter(
        node_id=datastream.node_id, quantity_id=datastream.quantity_id, ts=stored.sample_ts
    ).delete()


def replace(
    stored: Stored,
    datastream: sta.Datastream,
    fields: Fields,
    feature: sta.FeatureOfInterest | None,
) -> sta.ObservationRow:
    """Write the changed Observation: an observations-store row in place; a sample is
    taken out (rollups corrected) and stored again through the pipeline."""
    if feature is None:
        feature = generated_feature(datastream.node)
    if stored.observation is not None and datastream.store == sta.Store.OBSERVATIONS:
        observation = stored.observation
        observation.datastream = datastream
        observation.feature_of_interest = feature
        for name in Fields.__slots__:  # type: ignore[attr-defined]
            setattr(observation, name, getattr(fields, name))
        observation.save()
        return row(datastream, fields, feature, observation=observation)
    remove(stored)
    return store(datastream, fields, feature)


def generated_feature(node: Node) -> sta.FeatureOfInterest:
    """The FeatureOfInterest of the Thing's current GeoJSON Location (its last one; an
    address as text beside it does not count), made once."""
    geojson = sta.Location.objects.filter(encoding_type__in=v.GEOJSON_TYPES)
    location = geojson.filter(things=node).order_by("-pk").first()
    if location is None:
        active = Installation.objects.active().filter(node=node).order_by("-start")
        location = geojson.filter(site__rooms__installations__in=active.values("pk")).first()
    if location is None:
        raise StaError(
            400,
            "No FeatureOfInterest given and the Thing has no Location to generate one from.",
        )
    feature, _ = sta.FeatureOfInterest.objects.get_or_create(
        location=location,
        defaults={
            "organization_id": location.organization_id,
            "name": location.name,
            "description": location.description,
            "encoding_type": location.encoding_type or v.GEOJSON_TYPES[0],
            "feature": location.location,
            "min_lon": location.min_lon,
            "min_lat": location.min_lat,
            "max_lon": location.max_lon,
            "max_lat": location.max_lat,
        },
    )
    return feature
