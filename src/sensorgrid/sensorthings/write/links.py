"""``$ref``: link and unlink existing entities (OGC 18-088 section 10.3 and 1.1's $ref).

- ``POST Things(1)/Locations/$ref {"@iot.id": 3}``: add to a to-many navigation;
- ``PUT Datastreams(1)/Sensor/$ref {"@iot.id": 3}``: set a to-one navigation;
- ``DELETE Things(1)/Locations/$ref?$id=3``: remove from a to-many navigation.

A Thing's Locations changing makes a HistoricalLocation, as every other change of them.
A to-one navigation of the data model is mandatory (a Datastream's Sensor…): it can be
replaced, not removed.
"""

from typing import Any

from django.db import models, transaction
from django.utils import timezone

from sensorgrid.inventory.models import Node
from sensorgrid.sensorthings import models as sta
from sensorgrid.sensorthings.errors import StaError
from sensorgrid.sensorthings.schema import ENTITY_SETS, EntitySet
from sensorgrid.sensorthings.write import rights
from sensorgrid.sensorthings.write.create import entity_set_of, inverse
from sensorgrid.sensorthings.write.update import update


def link(
    entity_set: EntitySet | str,
    instance: models.Model,
    navigation: str,
    reference: object,
    *,
    user: Any,
) -> models.Model:
    """Add (to-many) or set (to-one) the entity ``reference`` names (``{"@iot.id": n}``
    or the entity itself, as the views resolve it)."""
    if isinstance(reference, models.Model):
        reference = {"@iot.id": reference.pk}
    source = entity_set_of(entity_set)
    nav = _navigation(source, navigation)
    if not nav.many:
        return update(source, instance, {navigation: reference}, user=user)
    back = inverse(nav.target, source.name)
    target = ENTITY_SETS[nav.target]
    if not target.navigations[back].many:  # the target points back with a to-one link
        with transaction.atomic():
            organization_id = _owner(source, instance, user)
            other = rights.linked(
                target.name, target.singular, target.model, reference, organization_id
            )
            update(target, other, {back: {"@iot.id": instance.pk}}, user=user)
        return instance
    with transaction.atomic():
        organization_id = _owner(source, instance, user)
        other = rights.linked(
            target.name, target.singular, target.model, reference, organization_id
        )
        _many_to_many(source.name, instance, navigation, other, add=True)
    return instance


def unlink(
    entity_set: EntitySet | str,
    instance: models.Model,
    navigation: str,
    target_id: object,
    *,
    user: Any,
) -> None:
    """Remove ``target_id`` (an id or the entity) from a to-many navigation
    (``DELETE …/$ref?$id=``); a to-one navigation cannot be removed (400)."""
    if isinstance(target_id, models.Model):
        target_id = target_id.pk
    source = entity_set_of(entity_set)
    nav = _navigation(source, navigation)
    target = ENTITY_SETS[nav.target]
    back = inverse(nav.target, source.name)
    if not nav.many or not target.navigations[back].many:
        raise StaError(
            400,
            f"{source.singular}/{navigation} is mandatory for the linked entity: link "
            "another one instead of removing it.",
        )
    with transaction.atomic():
        organization_id = _owner(source, instance, user)
        other = rights.linked(
            target.name, target.singular, target.model, {"@iot.id": target_id}, organization_id
        )
        _many_to_many(source.name, instance, navigation, other, add=False)


def _navigation(source: EntitySet, navigation: str) -> Any:
    nav = source.navigations.get(navigation)
    if nav is None:
        raise StaError(400, f"{source.singular} has no navigation property {navigation!r}.")
    return nav


def _owner(source: EntitySet, instance: models.Model, user: Any) -> int | None:
    organization_id = rights.organization_of(source.name, instance)
    rights.require_owner(user, organization_id, f"{source.singular} {instance.pk}")
    return organization_id


def _many_to_many(
    source: str, instance: models.Model, navigation: str, other: models.Model, *, add: bool
) -> None:
    pairs = {
        ("Things", "Locations"): (instance, other),
        ("Locations", "Things"): (other, instance),
    }
    if (source, navigation) in pairs:
        node, location = pairs[(source, navigation)]
        assert isinstance(node, Node) and isinstance(location, sta.Location)
        _thing_location(node, location, add)
        return
    historical, location = (
        (instance, other) if source == "HistoricalLocations" else (other, instance)
    )
    assert isinstance(historical, sta.HistoricalLocation) and isinstance(location, sta.Location)
    if add:
        historical.locations.add(location)
    else:
        historical.locations.remove(location)


def _thing_location(node: Node, location: sta.Location, add: bool) -> None:
    if location.site_id is not None:
        raise StaError(
            400,
            f"Location {location.pk} is SensorGrid site {location.site_id}: a Thing is placed "
            "there, or taken away, by its node's installations.",
        )
    current = set(sta.Location.objects.filter(things=node))
    if add == (location in current):
        return  # nothing changes: no HistoricalLocation
    if add:
        node.sta_locations.add(location)
        current.add(location)
    else:
        node.sta_locations.remove(location)
        current.discard(location)
    historical = sta.HistoricalLocation.objects.create(
        organization_id=node.organization_id, node=node, time=timezone.now()
    )
    historical.locations.set(current)
