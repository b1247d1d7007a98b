"""Steps 2 and 3: which node each message is for, and whether its sender may write it.

Another organization's device ids must neither capture nor block the sender's
messages (issue 16): with a credential, only its organization's nodes count.

Without one (an MQTT route bound to no organization), an id that nodes of several
organizations have is refused as ambiguous, unless the broker authenticates devices
(``SENSORGRID_BROKER_AUTH=dynsec``): then only the id's first node (the lowest pk;
brokerauth/acl.py) may publish on a topic whose ``{device}`` level names it, so a message
there is that node's. The demo's embedded broker authenticates too, but its simulator
account publishes on every route's topic, so it proves no device's identity.
"""

from datetime import datetime

from django.conf import settings

from sensorgrid.ingest import cache
from sensorgrid.ingest.envelope import Authority, Envelope, Message
from sensorgrid.ingest.steps.work import Rejection, Work
from sensorgrid.ingest.validate import Problem, timestamp_problem
from sensorgrid.ingest.writer import ReceptionRow
from sensorgrid.telemetry.models import Reason

Nodes = dict[str, tuple[cache.NodeRef, ...]]

SUSPENDED = "organization suspended: an operator suspended this node's organization"


def authorize(work: Work) -> None:
    """Look the batch's devices up at once; refuse an envelope whose node credential
    names a device other than its node (the first such device is named).

    An organization credential has no such refusal: devices are looked up within its
    organization, so another organization's device is simply unknown to it.
    """
    devices = {d for c in work.candidates for d in (c.message.device, *c.message.also)}
    devices |= {item.envelope.device for item in work.items if item.envelope.device}
    work.nodes = cache.directory.nodes(devices) if devices else {}
    _refuse_other_devices_on_a_devices_topic(work)
    bound = {
        position
        for position, item in enumerate(work.items)
        if item.envelope.authority is not None and item.envelope.authority.node_id is not None
    }
    if not bound:  # MQTT routes and ingest keys: no node credential in the batch
        return
    refused = set()
    for candidate in work.candidates:  # in payload order: the first offender is named
        if candidate.item not in bound or candidate.item in refused:
            continue
        item = work.items[candidate.item]
        authority = item.envelope.authority
        assert authority is not None and authority.node_id is not None  # bound
        device, node, _ = _resolve(candidate.message, work.nodes, item.envelope)
        if node is None or node.id != authority.node_id:
            item.refused = Rejection(
                candidate.message.index,
                Reason.FORBIDDEN_DEVICE,
                f"this credential may not write for device {device!r}",
            )
            refused.add(candidate.item)
        else:  # resolved: ``resolve`` takes it as it is instead of looking it up again
            candidate.device, candidate.node = device, node
    if refused:
        work.candidates = [c for c in work.candidates if c.item not in refused]


def _refuse_other_devices_on_a_devices_topic(work: Work) -> None:
    """Refuse a message whose node is not the node its topic (or endpoint) names.

    The broker lets a node publish only on the topics whose ``{device}`` level is its
    own id (brokerauth/acl.py); a decoder that reads the device from the payload (TTN,
    managair, InfluxDB lines on a route with ``{device}``) would otherwise let it write
    as any other device. A topic id that names no node (a network server's own device
    name beside the DevEUI the node is registered with) proves nothing and is left to
    the payload. Node credentials are checked by ``authorize`` itself.
    """
    refused = set()
    for candidate in work.candidates:
        item = work.items[candidate.item]
        envelope = item.envelope
        if not envelope.device or candidate.item in refused:
            continue
        if envelope.authority is not None and envelope.authority.node_id is not None:
            continue
        message = candidate.message
        if message.device == envelope.device and not message.also:
            continue  # the usual message: it resolves by the topic's id, to the named node
        named, _ = node_of(envelope.device, work.nodes, envelope.authority, envelope.device)
        if named is None:
            continue
        device, node, _ = _resolve(message, work.nodes, envelope)
        if node is not None and node.id != named.id:
            item.refused = Rejection(
                message.index,
                Reason.FORBIDDEN_DEVICE,
                f"the payload names device {device!r} on the topic of {envelope.device!r}",
            )
            refused.add(candidate.item)
    if refused:
        work.candidates = [c for c in work.candidates if c.item not in refused]


def resolve(work: Work) -> None:
    """Each message's node, or the problem; the gateways' receptions of resolved ones
    are kept even when the values are refused later (the node was heard)."""
    for candidate in work.candidates:
        envelope = work.items[candidate.item].envelope
        message = candidate.message
        node = candidate.node  # set by ``authorize`` for a node credential's messages
        if node is None:
            candidate.device, node, missing = _resolve(message, work.nodes, envelope)
            if node is None:
                assert missing is not None  # _resolve names the problem when no node fits
                candidate.problems = (missing,)
                continue
            candidate.node = node
        if node.suspended:  # filed under the node: its owners see and replay it later
            candidate.problems = (Problem(Reason.ORGANIZATION_SUSPENDED, SUSPENDED),)
            continue
        if message.radio:
            work.receptions.extend(_receptions(message, node, envelope.received_at, work.now))


def node_of(
    device: str, nodes: Nodes, authority: Authority | None, topic_device: str = ""
) -> tuple[cache.NodeRef | None, Problem | None]:
    """The node ``device`` names for this sender: only its organization's nodes count.

    Without a credential (an MQTT route bound to no organization) an id that names
    nodes of several organizations is refused rather than guessed, unless it is the
    ``topic_device`` and the broker lets only its first node publish there (module
    docstring).
    """
    candidates = nodes.get(device, ())
    if authority is not None:
        candidates = tuple(n for n in candidates if n.organization_id == authority.organization_id)
    elif len(candidates) > 1 and device == topic_device and broker_authenticates_devices():
        candidates = (min(candidates, key=lambda node: node.id),)
    if len(candidates) > 1:
        return None, Problem(
            Reason.AMBIGUOUS_DEVICE,
            f"device id {device!r} names nodes of {len(candidates)} organizations; "
            "bind this MQTT route to an organization (docs/lorawan.md)",
        )
    return (candidates[0] if candidates else None), None


def broker_authenticates_devices() -> bool:
    """True if the broker lets a device publish only on its own topics (module docstring)."""
    return settings.SENSORGRID_BROKER_AUTH == "dynsec"


def _resolve(
    message: Message, nodes: Nodes, envelope: Envelope
) -> tuple[str, cache.NodeRef | None, Problem | None]:
    """The device id that names a node and the node (``device`` first, then ``also``),
    or the problem: no such node, or several (see ``node_of``)."""
    for device in (message.device, *message.also):
        node, problem = node_of(device, nodes, envelope.authority, envelope.device)
        if node is not None or problem is not None:
            return device, node, problem
    return message.device, None, Problem(Reason.UNKNOWN_DEVICE, _unknown(message))


def _unknown(message: Message) -> str:
    tried = [repr(device) for device in (message.device, *message.also)]
    if len(tried) == 1:
        return f"no node has device id {tried[0]}"
    return f"no node has device id {', '.join(tried[:-1])} or {tried[-1]}"


def _receptions(
    message: Message, node: cache.NodeRef, received_at: datetime, now: datetime
) -> list[ReceptionRow]:
    """The gateways' receptions of a message, unless its time is refused."""
    receptions = []
    for radio in message.radio:
        ts = radio.ts or message.ts or received_at
        if timestamp_problem(ts, now) is None:
            receptions.append(ReceptionRow(node.id, ts, radio, node.organization_id))
    return receptions
