"""MQTT Create (OGC 18-088 §14.2.2): an Observation published as JSON to
``v1.1/Datastreams(x)/Observations`` or ``v1.1/Observations`` is created as
``POST`` to that path would create it, with the publisher's rights.

MQTT 3.1.1 has no negative acknowledgement: a refused Observation (anonymous, an
inspector, a Datastream he cannot see, a bad body) is acknowledged all the same (QoS 1)
and logged with the reason; the subscribers of the Datastream see what was created.
"""

import json
from typing import Any

from sensorgrid.sensorthings import read, walls
from sensorgrid.sensorthings.errors import StaError, bad_request
from sensorgrid.sensorthings.mqtt.topics import Topic
from sensorgrid.sensorthings.paths import ResourcePath, Segment
from sensorgrid.sensorthings.schema import DATASTREAMS, OBSERVATIONS
from sensorgrid.sensorthings.views import check_values


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def create(user, topic: Topic, payload: bytes) -> int:
    """Create the Observation ``payload`` on ``topic`` as ``user``; its ``@iot.id``.
    ``StaError`` for what POST would refuse."""
    from sensorgrid.sensorthings import write

    if user is None or not user.is_authenticated:
        raise StaError(401, "Anonymous clients may not create Observations.")
    try:
        body = json.loads(payload, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise bad_request(f"The message is not JSON: {exc}.") from None
    if not isinstance(body, dict):
        raise bad_request("The message must be a JSON object (one Observation).")
    check_values(body)
    path = topic.path
    if len(path.segments) == 1:
        # v1.1/Observations: the Datastream comes with the body, as a link.
        link = body.get("Datastream")
        key = link.get("@iot.id") if isinstance(link, dict) else None
        if not isinstance(key, int) or isinstance(key, bool):
            raise bad_request('Name the Datastream: "Datastream": {"@iot.id": n}.')
        path = ResourcePath(
            (
                Segment(DATASTREAMS, key),
                Segment(OBSERVATIONS, None, DATASTREAMS.navigations["Observations"]),
            )
        )
    resolved = read.resolve(path, user)
    if resolved.parent is None:
        organization = walls.writer_organization(user, None)
        parent = None
    else:
        parent_set, parent_instance, navigation = resolved.parent
        organization = None
        parent = (parent_set, parent_instance, navigation.name)
    instance = write.create(
        resolved.entity_set, body, user=user, organization=organization, parent=parent
    )
    return instance if isinstance(instance, int) else instance.pk
