"""``POST CreateObservations``: many Observations in the compact dataArray format (OGC
18-088 section 12, the "dataArray" conformance class).

The body is an array of ``{"Datastream": {"@iot.id": n}, "components": [...],
"dataArray": [[...], ...]}``; components name Observation properties
(``phenomenonTime``, ``result``, ``resultTime``, ``resultQuality``, ``validTime``,
``parameters``) and ``FeatureOfInterest/id``. The answer lists, per row in order, the
created Observation's id or ``None`` where that row was refused (the view writes its
selfLink or the spec's ``"error"``). A malformed body (no Datastream, an unknown
component, a row of the wrong length) is refused whole with 400.
"""

from typing import Any

from django.db import transaction
from django.utils import timezone

from sensorgrid.sensorthings import models as sta
from sensorgrid.sensorthings.errors import StaError
from sensorgrid.sensorthings.write import observations, rights

COMPONENTS = (
    "phenomenonTime",
    "result",
    "resultTime",
    "resultQuality",
    "validTime",
    "parameters",
    "FeatureOfInterest/id",
)


def create_observations(body: object, *, user: Any, organization: Any) -> list[int | None]:
    """Create the rows of every dataArray; their Observation ids (None: refused)."""
    if not isinstance(body, list):
        raise StaError(400, "CreateObservations takes a JSON array of dataArray objects.")
    created: list[int | None] = []
    with transaction.atomic():
        organization_id = organization.pk if organization is not None else None
        rights.require_owner(user, organization_id, "this organization")
        now = timezone.now()
        for index, group in enumerate(body):
            datastream, components, rows = _group(index, group, organization_id)
            for values in rows:
                created.append(_one(datastream, dict(zip(components, values, strict=True)), now))
    return created


def _group(
    index: int, group: object, organization_id: int | None
) -> tuple[sta.Datastream, list[str], list[list[Any]]]:
    where = f"CreateObservations[{index}]"
    if not isinstance(group, dict):
        raise StaError(400, f"{where}: expected an object with Datastream, components, dataArray.")
    unknown = set(group) - {"Datastream", "components", "dataArray", "dataArray@iot.count"}
    if unknown:
        raise StaError(
            400,
            f"{where}: unknown member {sorted(unknown)[0]!r} (MultiDatastreams are not supported).",
        )
    if group.get("Datastream") is None:
        raise StaError(400, f"{where}: Missing mandatory property 'Datastream'.")
    datastream = rights.linked(
        "Datastreams", "Datastream", sta.Datastream, group["Datastream"], organization_id
    )
    assert isinstance(datastream, sta.Datastream)
    components = group.get("components")
    if not isinstance(components, list) or not components:
        raise StaError(400, f"{where}: components must be a non-empty array.")
    for component in components:
        if component not in COMPONENTS:
            raise StaError(
                400, f"{where}: unknown component {component!r}; known: {', '.join(COMPONENTS)}."
            )
    if "result" not in components:
        raise StaError(400, f"{where}: components must include 'result'.")
    rows = group.get("dataArray")
    if not isinstance(rows, list):
        raise StaError(400, f"{where}: dataArray must be an array of arrays.")
    for number, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != len(components):
            raise StaError(
                400, f"{where}: dataArray[{number}] must be an array of {len(components)} values."
            )
    return datastream, components, rows


def _one(datastream: sta.Datastream, values: dict[str, Any], now: Any) -> int | None:
    feature = None
    body = {key: value for key, value in values.items() if key != "FeatureOfInterest/id"}
    try:
        with transaction.atomic():
            if values.get("FeatureOfInterest/id") is not None:
                found = rights.linked(
                    "FeaturesOfInterest",
                    "FeatureOfInterest",
                    sta.FeatureOfInterest,
                    {"@iot.id": values["FeatureOfInterest/id"]},
                    datastream.organization_id,
                )
                assert isinstance(found, sta.FeatureOfInterest)
                feature = found
            return observations.create(datastream, body, feature, now).pk
    except StaError:
        return None


def handle(request: Any, *, identity: Any, base: str) -> Any:
    """``POST CreateObservations`` (the views' action entry): 201 with, per row, the
    created Observation's selfLink or ``"error"``."""
    from sensorgrid.sensorthings import views, walls

    body = http_body(request)
    organization = walls.writer_organization(
        identity.user, request.headers.get(walls.ORGANIZATION_HEADER)
    )
    created = create_observations(body, user=identity.user, organization=organization)
    links = ["error" if pk is None else f"{base}Observations({pk})" for pk in created]
    return views.json_response(links, 201)


def http_body(request: Any) -> Any:
    """The JSON body of an action request; 400 for another type or broken JSON."""
    import json

    if (request.content_type or "") != "application/json":
        raise StaError(400, "Send the body as application/json (Content-Type).")
    try:
        return json.loads(request.body or b"null")
    except (ValueError, RecursionError) as exc:
        raise StaError(400, f"The body is not JSON: {exc}.") from None
