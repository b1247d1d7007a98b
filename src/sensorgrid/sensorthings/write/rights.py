"""Who may write where, and which existing entities a body may link to.

Only OWNERs of an organization (or superusers) write in it (``scoping.Action.CHANGE``);
an inspector or an anonymous client gets 403. Rows of the shared catalogue (mirrors of
quantities and catalogue node models, organization empty) are changed by superusers
only. A body links (``{"@iot.id": n}``) only to entities of the organization being
written or to shared mirrors: anything else, another organization's entity included,
is answered like a missing id (400 "No Sensor with id n.").
"""

from typing import Any

from django.db import models

from sensorgrid.inventory.models import Node
from sensorgrid.sensorthings import models as sta
from sensorgrid.sensorthings.errors import StaError
from sensorgrid.tenancy.scoping import Action, organization_ids, sees_everything

#: Sets whose rows may be shared mirrors (organization empty).
SHARED = {"Sensors", "ObservedProperties"}


def require_owner(user: Any, organization_id: int | None, what: str) -> None:
    """403 unless ``user`` may change rows of ``organization_id``."""
    if organization_id is None:
        if sees_everything(user):
            return
        raise StaError(
            403,
            f"{what} belongs to the shared catalogue; only platform administrators change it.",
        )
    if organization_id not in organization_ids(user, Action.CHANGE):
        raise StaError(
            403, f"You may not change {what}: only owners of its organization write there."
        )


def organization_of(entity_set: str, instance: models.Model) -> int | None:
    """The organization a row belongs to (None: shared catalogue)."""
    if entity_set == "Things":
        return instance.organization_id  # type: ignore[attr-defined]
    if entity_set == "Observations":
        return instance.organization_id  # type: ignore[attr-defined]
    return instance.organization_id  # type: ignore[attr-defined]


def referable(
    entity_set: str, model: type[models.Model], organization_id: int | None
) -> models.QuerySet:
    """The rows of ``model`` a body written in ``organization_id`` may link to."""
    manager = model._default_manager
    if model is Node:
        return manager.filter(organization_id=organization_id)
    if entity_set in SHARED:
        return manager.filter(
            models.Q(organization_id=organization_id) | models.Q(organization__isnull=True)
        )
    return manager.filter(organization_id=organization_id)


def linked(
    entity_set: str,
    singular: str,
    model: type[models.Model],
    reference: object,
    organization_id: int | None,
    *,
    lock: bool = False,
) -> models.Model:
    """The entity ``{"@iot.id": n}`` names, if the writer may link to it; else 400."""
    if not isinstance(reference, dict) or "@iot.id" not in reference:
        raise StaError(400, f'{singular}: expected an entity or {{"@iot.id": n}}.')
    key = reference["@iot.id"]
    if isinstance(key, bool) or not isinstance(key, int | str):
        raise StaError(400, f"{singular}: @iot.id must be an integer.")
    try:
        pk = int(key)
    except ValueError:
        raise StaError(400, f"{singular}: @iot.id must be an integer, not {key!r}.") from None
    if not 0 < pk < 2**63:
        raise StaError(400, f"No {singular} with id {key}.")
    qs = referable(entity_set, model, organization_id)
    if model is sta.Datastream:  # an Observation's writer reads all three
        qs = qs.select_related("node", "quantity", "observed_property")
    if lock:
        qs = qs.select_for_update(of=("self",))
    found = qs.filter(pk=pk).first()
    if found is None:
        raise StaError(400, f"No {singular} with id {key}.")
    return found


def is_mirror(entity_set: str, instance: models.Model) -> str | None:
    """What SensorGrid object a row mirrors ("site 'Main'"), or None for STA's own rows."""
    if isinstance(instance, sta.ObservedProperty) and instance.quantity_id:
        return f"quantity {instance.quantity_id}"
    if isinstance(instance, sta.Sensor) and instance.node_model_id:
        return f"node model {instance.node_model_id}"
    if isinstance(instance, sta.Location) and instance.site_id:
        return f"site {instance.site_id}"
    if isinstance(instance, sta.HistoricalLocation) and instance.installation_id:
        return f"installation {instance.installation_id}"
    return None
