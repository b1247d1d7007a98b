"""Values of network-server uplinks: drop unregistered formatter fields, decode frames.

A LoRaWAN message (docs/lorawan.md) carries the network server's decoded fields, a
binary frame, or both. The fields that name registered quantities are kept; a
message left without values is read by the codec of the node's model.
"""

import logging
from dataclasses import replace

from sensorgrid.ingest import cache, codecs
from sensorgrid.ingest.envelope import Message
from sensorgrid.ingest.validate import Problem
from sensorgrid.telemetry.models import Reason

log = logging.getLogger(__name__)


def with_values(
    message: Message, device: str, node: cache.NodeRef, quantities: dict[str, cache.QuantityRef]
) -> tuple[Message, list[Problem]]:
    """The message with the values to validate, or the problem that refuses it whole.

    A lenient message (a network server's formatter output) loses the keys that are
    not registered quantities; a message left without values but with a frame gets
    the values of the node model's codec.
    """
    values, dropped = message.values, []
    if message.lenient:
        values = tuple((key, value) for key, value in message.values if key in quantities)
        dropped = [key for key, _ in message.values if key not in quantities]
    if not values and message.frame is not None:
        decoded, problem = decode_frame(message, device, node)
        if problem is not None:
            if dropped:
                problem = Problem(
                    problem.reason,
                    f"{problem.detail}; the network server's decoded fields "
                    f"({', '.join(dropped[:10])}) name no registered quantity",
                )
            return message, [problem]
        values = decoded
    elif not values and dropped:
        return message, [
            Problem(
                Reason.UNKNOWN_QUANTITY,
                f"no decoded field names a registered quantity: {', '.join(dropped[:10])}",
            )
        ]
    if values is message.values:
        return message, []  # the common case: nothing to change
    return replace(message, values=values), []


def decode_frame(
    message: Message, device: str, node: cache.NodeRef
) -> tuple[tuple[tuple[str, object], ...], Problem | None]:
    """The values of a binary frame, read by the codec of the node's model."""
    frame = message.frame
    assert frame is not None  # the caller decodes only messages that carry a frame
    where = f"frame on port {frame.port}" if frame.port is not None else "frame"
    if not node.codec:
        return (), Problem(
            Reason.MALFORMED,
            f"{where} of {device!r} cannot be decoded: the node model has no codec "
            "(set the node model's decoder, or decode in the network server)",
        )
    try:
        codec = codecs.get(node.codec)
    except KeyError:
        return (), Problem(
            Reason.MALFORMED,
            f"{where} of {device!r} cannot be decoded: the node model's codec "
            f"{node.codec!r} is not known; known: {', '.join(codecs.available()) or 'none'}",
        )
    try:
        decoded = codec.decode(frame.data, frame.port)
    except codecs.CodecError as exc:
        return (), Problem(
            Reason.MALFORMED,
            f"codec {node.codec!r}, {where}: byte {exc.offset}: {exc.detail} "
            f"(frame {frame.data.hex()[:64]})",
        )
    except Exception as exc:  # a codec bug costs this message, not the batch
        log.exception("codec %s failed on a frame of %s", node.codec, device)
        return (), Problem(
            Reason.DECODER_ERROR, f"codec {node.codec!r} failed: {type(exc).__name__}: {exc}"
        )
    return tuple(decoded.items()), None
