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

from sensorgrid.sensorthings import ids
from sensorgrid.sensorthings import models as sta
from sensorgrid.sensorthings.errors import StaError
from sensorgrid.sensorthings.schema import OBSERVATION_PROPERTIES
from sensorgrid.sensorthings.write import observations, rights, samples

COMPONENTS = (*OBSERVATION_PROPERTIES, "FeatureOfInterest/id")


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
            created.extend(_create_rows(datastream, components, rows, now))
    return created


def _create_rows(
    datastream: sta.Datastream, components: list[str], rows: list[list[Any]], now: Any
) -> list[int | None]:
    """One group's rows, written together: one pipeline batch for a numeric Datastream,
    one bulk insert for the observations store; a row that is refused is ``None``."""
    features: dict[object, sta.FeatureOfInterest | None] = {}
    generated: list[sta.FeatureOfInterest | None] = []
    parsed: list[tuple[int, observations.Fields, sta.FeatureOfInterest, float]] = []
    for position, values in enumerate(rows):
        row = dict(zip(components, values, strict=True))
        key = row.pop("FeatureOfInterest/id", None)
        try:
            fields = observations.parse(row, None, False, now)
            feature = _feature(datastream, key, features, generated)
            value = 0.0
            if datastream.store == sta.Store.SAMPLES:
                value = observations.number(datastream, fields.result)
                ids.encode_sample(datastream.pk, fields.phenomenon_time)
        except StaError:
            continue
        parsed.append((position, fields, feature, value))
    created: list[int | None] = [None] * len(rows)
    observations.extend_observed_area(datastream, [feature for _, _, feature, _ in parsed])
    if datastream.store == sta.Store.SAMPLES:
        node, quantity = datastream.node, datastream.quantity
        assert quantity is not None
        stored = samples.ingest_many(
            node, quantity, [(fields.phenomenon_time, value) for _, fields, _, value in parsed]
        )
        kept = [entry for entry, ok in zip(parsed, stored, strict=True) if ok]
        sta.SampleDetails.objects.filter(
            node_id=node.pk,
            quantity_id=quantity.pk,
            ts__in=[fields.phenomenon_time for _, fields, _, _ in kept],
        ).delete()
        sta.SampleDetails.objects.bulk_create(
            [_details(node.pk, quantity.pk, fields, feature) for _, fields, feature, _ in kept]
        )
        for position, fields, _, _ in kept:
            created[position] = ids.encode_sample(datastream.pk, fields.phenomenon_time)
        return created
    made = sta.Observation.objects.bulk_create(
        [_observation(datastream, fields, feature) for _, fields, feature, _ in parsed]
    )
    for (position, _, _, _), observation in zip(parsed, made, strict=True):
        created[position] = ids.encode_observation(datastream.pk, observation.pk)
    from sensorgrid.sensorthings.mqtt import feed  # MQTT subscribers: no post_save in bulk

    feed.observations_created(made)
    return created


def _feature(
    datastream: sta.Datastream,
    key: object,
    features: dict[object, sta.FeatureOfInterest | None],
    generated: list[sta.FeatureOfInterest | None],
) -> sta.FeatureOfInterest:
    """The row's FeatureOfInterest (by id, or generated from the Thing's Location), each
    looked up once per group; StaError when there is none."""
    if key is None:
        if not generated:
            try:
                generated.append(observations.generated_feature(datastream.node))
            except StaError:
                generated.append(None)
        found = generated[0]
    else:
        if key not in features:
            try:
                linked = rights.linked(
                    "FeaturesOfInterest",
                    "FeatureOfInterest",
                    sta.FeatureOfInterest,
                    {"@iot.id": key},
                    datastream.organization_id,
                )
                assert isinstance(linked, sta.FeatureOfInterest)
                features[key] = linked
            except StaError:
                features[key] = None
        found = features[key]
    if found is None:
        raise StaError(400, "No FeatureOfInterest for this row.")
    return found


def _details(
    node_id: int, quantity_id: int, fields: observations.Fields, feature: sta.FeatureOfInterest
) -> sta.SampleDetails:
    return sta.SampleDetails(
        node_id=node_id,
        quantity_id=quantity_id,
        ts=fields.phenomenon_time,
        feature_of_interest=feature,
        phenomenon_time_end=fields.phenomenon_time_end,
        result_time=fields.result_time,
        valid_time_start=fields.valid_time_start,
        valid_time_end=fields.valid_time_end,
        parameters=fields.parameters,
        result_quality=fields.result_quality,
    )


def _observation(
    datastream: sta.Datastream, fields: observations.Fields, feature: sta.FeatureOfInterest
) -> sta.Observation:
    return sta.Observation(
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


def handle(request: Any, *, identity: Any, base: str) -> Any:
    """``POST CreateObservations`` (the views' action entry): 201 with, per row, the
    created Observation's selfLink or ``"error"``."""
    from sensorgrid.sensorthings import views, walls

    body = http_body(request)
    views.check_values(body)
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
