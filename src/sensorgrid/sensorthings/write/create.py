"""POST: create an entity, with the related entities inline (deep insert) or linked by
``{"@iot.id": n}``, in one transaction (OGC 18-088 section 10.2).

A Thing is a node of the writer's organization (a generated device id ``sta-…``, the
name as alias, properties as metadata); the rest are rows of ``sensorthings.models``.
Observations are written by ``observations.py`` (samples through the ingest pipeline).
"""

import secrets
from typing import Any, cast

from django.db import IntegrityError, models, transaction
from django.utils import timezone

from sensorgrid.inventory.models import Node
from sensorgrid.sensorthings import models as sta
from sensorgrid.sensorthings.errors import StaError
from sensorgrid.sensorthings.schema import ENTITY_SETS, EntitySet
from sensorgrid.sensorthings.write import entities, observations, rights
from sensorgrid.sensorthings.write import values as v

#: (parent entity set, parent instance, navigation name) of a POST to a navigation path.
Parent = tuple[EntitySet | str, models.Model, str]


def entity_set_of(entity_set: EntitySet | str) -> EntitySet:
    name = entity_set if isinstance(entity_set, str) else entity_set.name
    found = ENTITY_SETS.get(name)
    if found is None:
        raise StaError(404, f"No entity set {name!r}.")
    return found


def inverse(target: str, source: str) -> str:
    """The navigation of ``target`` that leads back to ``source``."""
    for nav in ENTITY_SETS[target].navigations.values():
        if nav.target == source:
            return nav.name
    raise StaError(400, f"{target} cannot be created under {source}.")


def is_link(element: object) -> bool:
    return isinstance(element, dict) and "@iot.id" in element


def create(
    entity_set: EntitySet | str,
    body: object,
    *,
    user: Any,
    organization: Any,
    parent: Parent | None = None,
) -> models.Model:
    """Create ``body`` in ``entity_set`` for ``organization`` (module docstring)."""
    target = entity_set_of(entity_set)
    if not isinstance(body, dict):
        raise StaError(400, f"The body must be a JSON object (one {target.singular}).")
    v.unstorable(body)
    body = dict(body)
    with transaction.atomic():
        organization_id = organization.pk if organization is not None else None
        if parent is not None:
            parent_set, parent_instance, navigation = parent
            parent_name = entity_set_of(parent_set).name
            owner = rights.organization_of(parent_name, parent_instance)
            if owner is not None:
                organization_id = owner
            back = inverse(target.name, parent_name)
            if not ENTITY_SETS[parent_name].navigations[navigation].many:
                raise StaError(400, f"POST to a collection, not to {parent_name}(…)/{navigation}.")
            reference = {"@iot.id": parent_instance.pk}
            if target.navigations[back].many:
                given = body.get(back) or []
                if not isinstance(given, list):
                    raise StaError(400, f"{back} must be an array.")
                body[back] = [*given, reference]
            else:
                given = body.get(back)
                if given is not None and not (
                    is_link(given) and given["@iot.id"] == parent_instance.pk
                ):
                    raise StaError(400, f"{back} is given by the path; the body names another one.")
                body[back] = reference
        if organization_id is None:
            raise StaError(400, "Choose the organization to write in.")
        rights.require_owner(user, organization_id, "this organization")
        return Writer(user, organization_id).create(target.name, body)


class Writer:
    """One request's writes: the organization they land in and the time they happen."""

    def __init__(self, user: Any, organization_id: int) -> None:
        self.user = user
        self.organization_id = organization_id
        self.now = timezone.now()

    # -- references ---------------------------------------------------------------------

    def entity(self, entity_set: str, element: object, **forced: Any) -> models.Model:
        """An element of a body: a link to an existing entity, or a new one (inline)."""
        if is_link(element):
            target = ENTITY_SETS[entity_set]
            return rights.linked(
                entity_set, target.singular, target.model, element, self.organization_id
            )
        if not isinstance(element, dict):
            raise StaError(400, f"{ENTITY_SETS[entity_set].singular}: expected a JSON object.")
        return self.create(entity_set, dict(element), **forced)

    def entities(self, entity_set: str, elements: object, nav: str) -> list[object]:
        if elements is None:
            return []
        if not isinstance(elements, list):
            raise StaError(400, f"{nav} must be an array.")
        return elements

    # -- creation -------------------------------------------------------------------------

    def create(self, entity_set: str, body: dict[str, Any], **forced: Any) -> models.Model:
        singular = ENTITY_SETS[entity_set].singular
        entities.check_keys(entity_set, singular, body)
        creator = getattr(self, "_" + entity_set)
        return creator(body, **forced)

    def _Things(self, body: dict[str, Any]) -> Node:
        node = Node(organization_id=self.organization_id, device_id=new_device_id(), metadata={})
        row = sta.Thing(description="", properties=None)  # absent: null (204), as FROST
        targets = {"*": node, "description": row, "properties": row}
        entities.assign("Things", targets, _defaults(body), creating=True, replace=False)
        node.save()
        sta.Thing.objects.update_or_create(
            node=node, defaults={"description": row.description, "properties": row.properties}
        )
        locations = [
            self.entity("Locations", element)
            for element in self.entities("Locations", body.get("Locations"), "Locations")
        ]
        if locations:
            set_locations(node, cast(list[sta.Location], locations), self.now)
        for element in self.entities(
            "HistoricalLocations", body.get("HistoricalLocations"), "HistoricalLocations"
        ):
            self._child("HistoricalLocations", element, "Thing", node)
        for element in self.entities("Datastreams", body.get("Datastreams"), "Datastreams"):
            self._child("Datastreams", element, "Thing", node)
        return node

    def _Locations(self, body: dict[str, Any]) -> sta.Location:
        location = sta.Location(organization_id=self.organization_id)
        entities.assign("Locations", {"*": location}, _defaults(body), creating=True, replace=False)
        location.save()
        for element in self.entities("Things", body.get("Things"), "Things"):
            node = self.entity("Things", element)
            assert isinstance(node, Node)
            set_locations(node, [location], self.now)
        for element in self.entities(
            "HistoricalLocations", body.get("HistoricalLocations"), "HistoricalLocations"
        ):
            historical = self.entity("HistoricalLocations", element)
            assert isinstance(historical, sta.HistoricalLocation)
            historical.locations.add(location)
        return location

    def _HistoricalLocations(
        self, body: dict[str, Any], Thing: Node | None = None
    ) -> sta.HistoricalLocation:
        historical = sta.HistoricalLocation(organization_id=self.organization_id)
        entities.assign(
            "HistoricalLocations", {"*": historical}, body, creating=True, replace=False
        )
        node = Thing if Thing is not None else self._required("Things", body, "Thing")
        assert isinstance(node, Node)
        historical.node = node
        historical.save()
        locations = [
            self.entity("Locations", element)
            for element in self.entities("Locations", body.get("Locations"), "Locations")
        ]
        historical.locations.set(cast(list[sta.Location], locations))
        later = sta.HistoricalLocation.objects.filter(node=node, time__gt=historical.time)
        if not later.exclude(pk=historical.pk).exists():
            # The newest entry of the Thing's history is where it is now (FROST-Server).
            sites = sta.Location.objects.filter(things=node, site__isnull=False)
            node.sta_locations.set(
                [*sites, *(loc for loc in cast(list[sta.Location], locations) if not loc.site_id)]
            )
        return historical

    def _Datastreams(
        self,
        body: dict[str, Any],
        Thing: Node | None = None,
        Sensor: sta.Sensor | None = None,
        ObservedProperty: sta.ObservedProperty | None = None,
    ) -> sta.Datastream:
        datastream = sta.Datastream(organization_id=self.organization_id)
        entities.assign(
            "Datastreams", {"*": datastream}, _defaults(body), creating=True, replace=False
        )
        node = Thing or self._required("Things", body, "Thing")
        sensor = Sensor or self._required("Sensors", body, "Sensor")
        observed_property = ObservedProperty or self._required(
            "ObservedProperties", body, "ObservedProperty"
        )
        assert isinstance(node, Node) and isinstance(sensor, sta.Sensor)
        assert isinstance(observed_property, sta.ObservedProperty)
        datastream.node = node
        datastream.sensor = sensor
        datastream.observed_property = observed_property
        quantity_id = observed_property.quantity_id
        datastream.store = sta.Store.OBSERVATIONS
        if quantity_id is not None:
            try:  # the series' samples Datastream, unless the node has one already
                with transaction.atomic():
                    datastream.store = sta.Store.SAMPLES
                    datastream.quantity_id = quantity_id
                    datastream.save()
            except IntegrityError:  # sta_one_samples_datastream_per_series
                datastream.pk = None
                datastream.store = sta.Store.OBSERVATIONS
                datastream.quantity_id = None
        if datastream.pk is None:
            datastream.save()
        for element in self.entities("Observations", body.get("Observations"), "Observations"):
            self._child("Observations", element, "Datastream", datastream)
        return datastream

    def _Sensors(self, body: dict[str, Any]) -> sta.Sensor:
        sensor = sta.Sensor(organization_id=self.organization_id)
        entities.assign("Sensors", {"*": sensor}, _defaults(body), creating=True, replace=False)
        sensor.save()
        for element in self.entities("Datastreams", body.get("Datastreams"), "Datastreams"):
            self._child("Datastreams", element, "Sensor", sensor)
        return sensor

    def _ObservedProperties(self, body: dict[str, Any]) -> sta.ObservedProperty:
        observed_property = sta.ObservedProperty(organization_id=self.organization_id)
        entities.assign(
            "ObservedProperties",
            {"*": observed_property},
            _defaults(body),
            creating=True,
            replace=False,
        )
        observed_property.save()
        for element in self.entities("Datastreams", body.get("Datastreams"), "Datastreams"):
            self._child("Datastreams", element, "ObservedProperty", observed_property)
        return observed_property

    def _FeaturesOfInterest(self, body: dict[str, Any]) -> sta.FeatureOfInterest:
        feature = sta.FeatureOfInterest(organization_id=self.organization_id)
        entities.assign(
            "FeaturesOfInterest", {"*": feature}, _defaults(body), creating=True, replace=False
        )
        feature.save()
        for element in self.entities("Observations", body.get("Observations"), "Observations"):
            self._child("Observations", element, "FeatureOfInterest", feature)
        return feature

    def _Observations(
        self,
        body: dict[str, Any],
        Datastream: sta.Datastream | None = None,
        FeatureOfInterest: sta.FeatureOfInterest | None = None,
    ) -> sta.ObservationRow:
        datastream = (
            Datastream
            if Datastream is not None
            else self._required("Datastreams", body, "Datastream")
        )
        assert isinstance(datastream, sta.Datastream)
        feature = FeatureOfInterest
        if feature is None and body.get("FeatureOfInterest") is not None:
            found = self.entity("FeaturesOfInterest", body["FeatureOfInterest"])
            assert isinstance(found, sta.FeatureOfInterest)
            feature = found
        return observations.create(datastream, body, feature, self.now)

    # -- helpers --------------------------------------------------------------------------

    def _required(self, entity_set: str, body: dict[str, Any], nav: str) -> models.Model:
        element = body.get(nav)
        if element is None:
            raise StaError(400, f"Missing mandatory property {nav!r}.")
        return self.entity(entity_set, element)

    def _child(
        self, entity_set: str, element: object, back: str, parent: models.Model
    ) -> models.Model:
        """An element of a to-many navigation whose entities point back at ``parent``."""
        if is_link(element):
            from sensorgrid.sensorthings.write.update import update

            target = ENTITY_SETS[entity_set]
            child = rights.linked(
                entity_set, target.singular, target.model, element, self.organization_id
            )
            return update(entity_set, child, {back: {"@iot.id": parent.pk}}, user=self.user)
        if not isinstance(element, dict):
            raise StaError(400, f"{ENTITY_SETS[entity_set].singular}: expected a JSON object.")
        given = element.get(back)
        if given is not None and not (is_link(given) and given["@iot.id"] == parent.pk):
            raise StaError(
                400, f"{back} is given by the enclosing entity; the body names another one."
            )
        element = {k: item for k, item in element.items() if k != back}
        return self.create(entity_set, element, **{back: parent})


def _defaults(body: dict[str, Any]) -> dict[str, Any]:
    """A missing description is an empty one: clients (frost-sta-client) leave out empty
    optional-looking strings."""
    if "description" not in body:
        return {**body, "description": ""}
    return body


def new_device_id() -> str:
    """A device id for a Thing created through STA (valid for ``Node.device_id``)."""
    return f"sta-{secrets.token_hex(6)}"


def set_locations(
    node: Node, locations: list[sta.Location], now: Any
) -> sta.HistoricalLocation | None:
    """Make ``locations`` the Thing's current Locations and record the change as a
    HistoricalLocation (spec 10.2.1.1: the service creates it whenever they change; the
    same Locations again change nothing). Locations of SensorGrid sites come and go
    with the node's installations: one may be named only if the Thing is there already,
    and leaving one out does not take the Thing away from it."""
    current = set(sta.Location.objects.filter(things=node))
    for location in locations:
        if location.site_id is not None and location not in current:
            raise StaError(
                400,
                f"Location {location.pk} is SensorGrid site {location.site_id}: a Thing is "
                "placed there by installing its node in a room of that site.",
            )
    wanted = set(locations) | {loc for loc in current if loc.site_id is not None}
    if wanted == current:
        return None
    node.sta_locations.remove(*(current - wanted))
    node.sta_locations.add(*(wanted - current))
    historical = sta.HistoricalLocation.objects.create(
        organization_id=node.organization_id, node=node, time=now
    )
    historical.locations.set(wanted)
    return historical
