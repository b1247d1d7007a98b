"""DELETE with the cascades of OGC 18-088 section 10.4.

- Thing: the node, with its Datastreams (and their Observations: the node's samples
  too), HistoricalLocations; its Locations stay.
- Location: the HistoricalLocations that pointed at it go with it.
- Datastream: its Observations; for a numeric Datastream the series' samples, rollups
  and latest value (they are its Observations).
- Sensor, ObservedProperty: their Datastreams (as above).
- FeatureOfInterest: its Observations (samples whose details name it included).
- Observation: the row, or the sample with its rollups corrected (``samples.delete``).

STA is a full face of an owner's data: deleting the STA row of one of the organization's
own SensorGrid objects deletes that object, as the dashboard would (a Location of a
site deletes the site with its rooms and installations, a HistoricalLocation of an
installation the installation, a Sensor of a node model the model, refused with 409
while nodes use it). The shared catalogue (quantities, catalogue node models) is not
deleted through STA (403).
"""

from collections.abc import Callable
from typing import Any

from django.db import models, transaction
from django.db.models.deletion import ProtectedError, RestrictedError

from sensorgrid.inventory.models import Node
from sensorgrid.sensorthings import models as sta
from sensorgrid.sensorthings.errors import StaError
from sensorgrid.sensorthings.schema import EntitySet
from sensorgrid.sensorthings.write import observations, rights, samples
from sensorgrid.sensorthings.write.create import entity_set_of
from sensorgrid.tenancy.scoping import Action, organization_ids


def delete(entity_set: EntitySet | str, instance: models.Model, *, user: Any) -> None:
    target = entity_set_of(entity_set)
    try:
        with transaction.atomic():
            if target.name == "Observations":
                stored = observations.load(instance.pk)
                rights.require_owner(
                    user, stored.datastream.organization_id, f"Observation {instance.pk}"
                )
                observations.remove(stored)
                return
            fresh = target.model._default_manager.select_for_update().filter(pk=instance.pk).first()
            if fresh is None:
                raise StaError(404, f"No {target.singular} with id {instance.pk}.")
            rights.require_owner(
                user, rights.organization_of(target.name, fresh), f"{target.singular} {fresh.pk}"
            )
            _CASCADES[target.name](fresh)
    except (ProtectedError, RestrictedError) as exc:
        names = ", ".join(sorted({str(o) for o in list(exc.args[1])[:3]}))
        raise StaError(409, f"{target.singular} {instance.pk} is still used by {names}.") from None


def datastream(ds: sta.Datastream) -> None:
    if ds.store == sta.Store.SAMPLES and ds.quantity_id is not None:
        samples.delete_series(ds.node_id, ds.quantity_id)
        details = sta.SampleDetails.objects.filter(node_id=ds.node_id, quantity_id=ds.quantity_id)
        details.delete()
    ds.delete()


def _thing(node: Node) -> None:
    # The node's deletion takes its series (telemetry's signal), details and Datastreams.
    node.delete()


def _location(location: sta.Location) -> None:
    sta.HistoricalLocation.objects.filter(locations=location, installation__isnull=True).delete()
    if location.site is not None:
        location.site.delete()
    else:
        location.delete()


def _historical_location(historical: sta.HistoricalLocation) -> None:
    if historical.installation is not None:
        historical.installation.delete()
    else:
        historical.delete()


def _sensor(sensor: sta.Sensor) -> None:
    for ds in sta.Datastream.objects.filter(sensor=sensor):
        datastream(ds)
    if sensor.node_model is not None:
        sensor.node_model.delete()
    else:
        sensor.delete()


def _observed_property(observed_property: sta.ObservedProperty) -> None:
    if observed_property.quantity_id is not None:
        raise StaError(
            403,
            f"ObservedProperty {observed_property.pk} is a quantity of SensorGrid's registry; "
            "it is not deleted through SensorThings.",
        )
    for ds in sta.Datastream.objects.filter(observed_property=observed_property):
        datastream(ds)
    observed_property.delete()


def _feature(feature: sta.FeatureOfInterest) -> None:
    details = sta.SampleDetails.objects.filter(feature_of_interest=feature)
    series: dict[tuple[int, int], list[Any]] = {}
    for node_id, quantity_id, ts in details.values_list("node_id", "quantity_id", "ts"):
        series.setdefault((node_id, quantity_id), []).append(ts)
    for (node_id, quantity_id), times in series.items():
        samples.delete(node_id, quantity_id, times)
    details.delete()
    feature.delete()


_CASCADES: dict[str, Callable[[Any], None]] = {
    "Things": _thing,
    "Locations": _location,
    "HistoricalLocations": _historical_location,
    "Datastreams": datastream,
    "Sensors": _sensor,
    "ObservedProperties": _observed_property,
    "FeaturesOfInterest": _feature,
}


def delete_many(entity_set: EntitySet | str, queryset: models.QuerySet, *, user: Any) -> int:
    """``DELETE <collection>?$filter=…`` (FROST-Server's filtered delete): every entity of
    ``queryset`` (what the reader sees and the filter selects) that ``user`` may change,
    each with its cascades; the ones he may only see stay. Returns how many went."""
    target = entity_set_of(entity_set)
    allowed = organization_ids(user, Action.CHANGE)
    deleted = 0
    with transaction.atomic():
        if target.name == "Observations":
            return _observations(queryset.filter(allowed.q("organization")))
        for instance in list(queryset):
            organization_id = rights.organization_of(target.name, instance)
            if organization_id is None or organization_id not in allowed:
                continue
            try:
                with transaction.atomic():
                    _CASCADES[target.name](instance)
            except (ProtectedError, RestrictedError, StaError):
                continue  # e.g. a node model still in use, a catalogue quantity
            deleted += 1
    return deleted


#: Observations a filtered delete reads and deletes at a time: a filter that selects
#: years of a series never holds them all in memory
CHUNK = 5_000


def _observations(mine: models.QuerySet) -> int:
    """Delete the Observations rows ``mine`` selects, both stores, a chunk at a time:
    each chunk is the first rows the filter still selects, as the last one is gone."""
    rows = mine.order_by().values_list(
        "observation_id", "node_id", "quantity_id", "phenomenon_time"
    )
    deleted = 0
    while chunk := list(rows[:CHUNK]):
        stored = [row[0] for row in chunk if row[0] is not None]
        gone, _ = sta.Observation.objects.filter(pk__in=stored).delete()
        series: dict[tuple[int, int], list[Any]] = {}
        for observation_id, node_id, quantity_id, ts in chunk:
            if observation_id is None:
                series.setdefault((node_id, quantity_id), []).append(ts)
        for (node_id, quantity_id), times in series.items():
            gone += samples.delete(node_id, quantity_id, times)
            sta.SampleDetails.objects.filter(
                node_id=node_id, quantity_id=quantity_id, ts__in=times
            ).delete()
        if not gone:  # nothing the filter selects could go: never loop on it
            break
        deleted += len(chunk)
    return deleted
