"""PATCH and PUT (OGC 18-088 section 10.3), and JSON-PATCH (RFC 6902) on top of them.

PATCH sets the properties the body gives; PUT also resets the optional ones it leaves
out (mandatory ones must be there). Navigation properties take links only
(``{"@iot.id": n}``; an inline entity is a 400): a Datastream's Thing, Sensor or
ObservedProperty, a Thing's Locations (a new HistoricalLocation records the change),
an Observation's Datastream or FeatureOfInterest. A numeric (samples) Datastream *is*
the series node × quantity: its Thing and ObservedProperty cannot change.
"""

from typing import Any, cast

import jsonpatch
import jsonpointer
from django.db import models, transaction
from django.utils import timezone

from sensorgrid.inventory.models import Node
from sensorgrid.isotime import iso
from sensorgrid.sensorthings import models as sta
from sensorgrid.sensorthings.errors import StaError
from sensorgrid.sensorthings.schema import ENTITY_SETS, EntitySet
from sensorgrid.sensorthings.write import entities, observations, rights
from sensorgrid.sensorthings.write import values as v
from sensorgrid.sensorthings.write.create import entity_set_of, is_link, set_locations


def update(
    entity_set: EntitySet | str,
    instance: models.Model,
    body: object,
    *,
    user: Any,
    replace: bool = False,
) -> models.Model:
    """Change ``instance`` as ``body`` says (PATCH, or PUT with ``replace``)."""
    target = entity_set_of(entity_set)
    if not isinstance(body, dict):
        raise StaError(400, f"The body must be a JSON object (one {target.singular}).")
    v.unstorable(body)
    given = body.get("@iot.id")
    if given is not None and str(given) != str(instance.pk):
        raise StaError(
            400, f"@iot.id {given} in the body is not the id of the path ({instance.pk})."
        )
    entities.check_keys(target.name, target.singular, body)
    for nav in entities.NAVIGATIONS[target.name]:
        if nav in body:
            elements = body[nav] if isinstance(body[nav], list) else [body[nav]]
            if any(not is_link(element) for element in elements if element is not None):
                raise StaError(
                    400, f'{nav}: an update links existing entities only ({{"@iot.id": n}}).'
                )
    from sensorgrid.sensorthings.mqtt import feed  # its subscribers hear of the update

    with transaction.atomic():
        announce = feed.updating(target, instance)
        updated = _update(target, instance, body, user, replace)
        announce(updated)
        return updated


def _update(
    target: EntitySet, instance: models.Model, body: dict[str, Any], user: Any, replace: bool
) -> models.Model:
    if target.name == "Observations":
        return _observation(instance.pk, body, user, replace)
    fresh = target.model._default_manager.select_for_update().filter(pk=instance.pk).first()
    if fresh is None:
        raise StaError(404, f"No {target.singular} with id {instance.pk}.")
    organization_id = rights.organization_of(target.name, fresh)
    rights.require_owner(user, organization_id, f"{target.singular} {fresh.pk}")
    return _Updater(target, fresh, organization_id, user).apply(body, replace)


class _Updater:
    def __init__(
        self, target: EntitySet, instance: models.Model, organization_id: int | None, user: Any
    ) -> None:
        self.user = user
        self.target = target
        self.instance = instance
        self.organization_id = organization_id
        self.now = timezone.now()

    def linked(self, entity_set: str, reference: object) -> models.Model:
        target = ENTITY_SETS[entity_set]
        return rights.linked(
            entity_set, target.singular, target.model, reference, self.organization_id
        )

    def apply(self, body: dict[str, Any], replace: bool) -> models.Model:
        name = self.target.name
        instance = self.instance
        if name == "Things":
            assert isinstance(instance, Node)
            row, _ = sta.Thing.objects.get_or_create(node=instance)
            targets = {"*": instance, "description": row, "properties": row}
            entities.assign(name, targets, body, creating=False, replace=replace)
            instance.save()
            row.save()
        else:
            entities.assign(name, {"*": instance}, body, creating=False, replace=replace)
        getattr(self, "_" + name)(body)
        instance.save()
        return instance

    def _Things(self, body: dict[str, Any]) -> None:
        node = self.instance
        assert isinstance(node, Node)
        if body.get("Locations") is not None:
            locations = [self.linked("Locations", ref) for ref in _list(body, "Locations")]
            set_locations(node, cast(list[sta.Location], locations), self.now)
        for ref in _list(body, "Datastreams"):
            datastream = self.linked("Datastreams", ref)
            assert isinstance(datastream, sta.Datastream)
            _move_datastream(datastream, Thing=node)
        for ref in _list(body, "HistoricalLocations"):
            historical = self.linked("HistoricalLocations", ref)
            assert isinstance(historical, sta.HistoricalLocation)
            historical.node = node
            historical.save()

    def _Locations(self, body: dict[str, Any]) -> None:
        location = self.instance
        for ref in _list(body, "Things"):
            node = self.linked("Things", ref)
            assert isinstance(node, Node)
            set_locations(node, [cast(sta.Location, location)], self.now)
        for ref in _list(body, "HistoricalLocations"):
            historical = self.linked("HistoricalLocations", ref)
            assert isinstance(historical, sta.HistoricalLocation)
            historical.locations.add(cast(sta.Location, location))

    def _HistoricalLocations(self, body: dict[str, Any]) -> None:
        historical = self.instance
        assert isinstance(historical, sta.HistoricalLocation)
        if body.get("Thing") is not None:
            node = self.linked("Things", body["Thing"])
            assert isinstance(node, Node)
            historical.node = node
        if body.get("Locations") is not None:
            historical.locations.set(
                [
                    cast(sta.Location, self.linked("Locations", ref))
                    for ref in _list(body, "Locations")
                ]
            )

    def _Datastreams(self, body: dict[str, Any]) -> None:
        datastream = self.instance
        assert isinstance(datastream, sta.Datastream)
        changes: dict[str, Any] = {}
        for nav, entity_set in (
            ("Thing", "Things"),
            ("Sensor", "Sensors"),
            ("ObservedProperty", "ObservedProperties"),
        ):
            if nav in body:
                if body[nav] is None:
                    raise StaError(400, f"{nav} is mandatory and cannot be removed.")
                changes[nav] = self.linked(entity_set, body[nav])
        if changes:
            _move_datastream(datastream, **changes)
        self._observations(body, "Datastream")

    def _Sensors(self, body: dict[str, Any]) -> None:
        for ref in _list(body, "Datastreams"):
            datastream = self.linked("Datastreams", ref)
            assert isinstance(datastream, sta.Datastream)
            _move_datastream(datastream, Sensor=self.instance)

    def _ObservedProperties(self, body: dict[str, Any]) -> None:
        for ref in _list(body, "Datastreams"):
            datastream = self.linked("Datastreams", ref)
            assert isinstance(datastream, sta.Datastream)
            _move_datastream(datastream, ObservedProperty=self.instance)

    def _FeaturesOfInterest(self, body: dict[str, Any]) -> None:
        self._observations(body, "FeatureOfInterest")

    def _observations(self, body: dict[str, Any], back: str) -> None:
        """Observations linked by id move here (an unchanged link changes nothing)."""
        for ref in _list(body, "Observations"):
            row = self.linked("Observations", ref)
            current = row.datastream_id if back == "Datastream" else row.feature_of_interest_id  # type: ignore[attr-defined]
            if current != self.instance.pk:
                _observation(row.pk, {back: {"@iot.id": self.instance.pk}}, self.user, False)


def _list(body: dict[str, Any], nav: str) -> list[Any]:
    value = body.get(nav)
    if value is None:
        return []
    if not isinstance(value, list):
        raise StaError(400, f"{nav} must be an array.")
    return value


def _move_datastream(datastream: sta.Datastream, **changes: Any) -> None:
    """Give a Datastream another Thing, Sensor or ObservedProperty."""
    if datastream.store == sta.Store.SAMPLES:
        node = changes.get("Thing")
        prop = changes.get("ObservedProperty")
        if (node is not None and node.pk != datastream.node_id) or (
            prop is not None and prop.pk != datastream.observed_property_id
        ):
            raise StaError(
                400,
                f"Datastream {datastream.pk} is the numeric series of its Thing and "
                "ObservedProperty in SensorGrid: they cannot change (its Sensor can).",
            )
    if "Thing" in changes:
        datastream.node = changes["Thing"]
    if "Sensor" in changes:
        datastream.sensor = changes["Sensor"]
    if "ObservedProperty" in changes:
        datastream.observed_property = changes["ObservedProperty"]
    datastream.save()


def _observation(pk: int, body: dict[str, Any], user: Any, replace: bool) -> sta.ObservationRow:
    stored = observations.load(pk)
    organization_id = stored.datastream.organization_id
    rights.require_owner(user, organization_id, f"Observation {pk}")
    now = timezone.now()
    fields = observations.parse(body, stored.fields, replace, now)
    datastream = stored.datastream
    if body.get("Datastream") is not None:
        found = rights.linked(
            "Datastreams", "Datastream", sta.Datastream, body["Datastream"], organization_id
        )
        assert isinstance(found, sta.Datastream)
        datastream = found
    feature = stored.feature
    if body.get("FeatureOfInterest") is not None:
        linked = rights.linked(
            "FeaturesOfInterest",
            "FeatureOfInterest",
            sta.FeatureOfInterest,
            body["FeatureOfInterest"],
            organization_id,
        )
        assert isinstance(linked, sta.FeatureOfInterest)
        feature = linked
    return observations.replace(stored, datastream, fields, feature)


# -- JSON-PATCH ------------------------------------------------------------------------


def apply_json_patch(
    entity_set: EntitySet | str, instance: models.Model, operations: object, *, user: Any
) -> models.Model:
    """Apply RFC 6902 operations to the entity's properties, then save them as a PATCH."""
    target = entity_set_of(entity_set)
    if not isinstance(operations, list):
        raise StaError(400, "A JSON-PATCH body is an array of operations.")
    with transaction.atomic():
        current = document(target, instance)
        try:
            patched = jsonpatch.JsonPatch(operations).apply(_objects_below(current, operations))
        except (
            jsonpatch.JsonPatchException,
            jsonpointer.JsonPointerException,
            TypeError,
            KeyError,
        ) as exc:
            raise StaError(400, f"JSON-PATCH: {exc}") from None
        if not isinstance(patched, dict):
            raise StaError(400, "JSON-PATCH: the result must stay an object.")
        changed = {
            key: value for key, value in patched.items() if current.get(key, _MISSING) != value
        }
        for key in current:
            if key not in patched:
                changed[key] = None
        return update(target, instance, changed, user=user)


_MISSING = object()


def _objects_below(current: dict[str, Any], operations: list[Any]) -> dict[str, Any]:
    """``current`` with an empty object for a null ``properties`` (or ``parameters``…) an
    operation writes below (``add /properties/a`` on an entity that has none yet)."""
    out = dict(current)
    for operation in operations:
        path = operation.get("path") if isinstance(operation, dict) else None
        if isinstance(path, str) and path.count("/") >= 2:
            key = path.split("/")[1]
            if key in out and out[key] is None:
                out[key] = {}
    return out


def document(target: EntitySet, instance: models.Model) -> dict[str, Any]:
    """The writable properties of an entity as JSON (what JSON-PATCH operates on)."""
    if target.name == "Observations":
        stored = observations.load(instance.pk)
        f = stored.fields
        doc: dict[str, Any] = {
            "phenomenonTime": iso(f.phenomenon_time)
            if f.phenomenon_time_end is None
            else f"{iso(f.phenomenon_time)}/{iso(f.phenomenon_time_end)}",
            "result": f.result if stored.observation is not None else _number(f.result),
            "resultTime": iso(f.result_time),
            "validTime": None
            if f.valid_time_start is None
            else f"{iso(f.valid_time_start)}/{iso(f.valid_time_end)}",
            "parameters": f.parameters,
            "resultQuality": f.result_quality,
        }
        return doc
    fresh = target.model._default_manager.filter(pk=instance.pk).first()
    if fresh is None:
        raise StaError(404, f"No {target.singular} with id {instance.pk}.")
    doc = {}
    for field in entities.FIELDS[target.name]:
        if field.attr is None:
            continue
        if target.name == "Things" and field.attr in ("description", "properties"):
            row = sta.Thing.objects.filter(node_id=fresh.pk).first()
            empty = "" if field.attr == "description" else None
            doc[field.name] = getattr(row, field.attr) if row else empty
        elif target.name == "Things" and field.attr == "alias":
            doc[field.name] = getattr(fresh, "alias", "") or f"Thing {fresh.pk}"
        else:
            value = getattr(fresh, field.attr)
            doc[field.name] = iso(value) if hasattr(value, "tzinfo") else value
    return doc


def _number(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) <= 2**53:
        return int(value)
    return value
