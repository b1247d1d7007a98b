"""Values of network-server uplinks: the codec's, else the network server's decoding.

A LoRaWAN message (docs/lorawan.md) carries the network server's decoded fields, a
binary frame, or both. When the node model has a codec and the uplink a frame, the
codec decides (issue 18, item 6): the network server's formatter may be older, another
vendor's, or none at all. Otherwise the decoded fields are the values; those that
name no registered quantity are refused by name at validation (``unknown-quantity``)
while the others are stored.
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

    A frame is read by the node model's codec when the model has one, whatever the
    network server decoded; without a codec the message's own values are kept, and a
    frame without any values is a problem (no codec to read it). An empty frame (an
    uplink without application payload) is no frame. ``quantities`` is unused since
    unknown names are refused at validation; it stays for the pipeline's call.
    """
    frame = message.frame
    if frame is None or not frame.data:
        return message, []
    if node.codec or not message.values:
        decoded, problem = decode_frame(message, device, node)
        if problem is not None:
            return message, [problem]
        return replace(message, values=decoded), []
    return message, []


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
            "(set the node model's codec, or decode in the network server)",
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
