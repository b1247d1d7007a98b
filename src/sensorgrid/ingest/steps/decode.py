"""Step 1: the decoder turns each envelope into messages and refusals."""

import logging

from sensorgrid.ingest import decoders
from sensorgrid.ingest.envelope import DecodeError, Message, Refusal
from sensorgrid.ingest.steps.work import Candidate, Rejection, Work
from sensorgrid.ingest.validate import Problem, unstorable
from sensorgrid.telemetry.models import Reason

log = logging.getLogger(__name__)


def decode(work: Work, start: int = 0) -> None:
    """Decode every envelope (from position ``start``, those before it decoded already:
    ``pipeline.decoded`` of a batch still growing); never raises: a decoder's failure
    refuses its envelope."""
    decoder = decoders.get(work.decoder)
    for position in range(start, len(work.items)):
        item = work.items[position]
        try:
            decoded = decoder.decode(item.envelope)
            # A message with an id no database can store (NUL…) is refused here, alone: it
            # must reach neither the node lookup nor the writer, where it would fail the
            # batch. Checked inside the try: a decoder whose messages are misshapen (values
            # that are no pairs) has a bug like one that raises. A payload its decoder
            # vouches for as a whole (``Decoder.storable``) skips the check per message.
            checked: list[tuple[Message, Problem | None]]
            if decoder.storable(item.envelope):
                checked = [(message, None) for message in decoded.messages]
            else:
                checked = [(message, unstorable(message)) for message in decoded.messages]
        except DecodeError as exc:
            item.refused = Rejection(0, exc.reason, exc.detail)
            continue
        except Exception as exc:  # a decoder bug costs this payload, not the process
            log.exception(
                "decoder %s failed on a payload from %s", work.decoder, item.envelope.topic
            )
            item.refused = Rejection(0, Reason.DECODER_ERROR, f"{type(exc).__name__}: {exc}")
            continue
        item.refusals.extend(decoded.refusals)
        for message, problem in checked:
            if problem is None:
                work.candidates.append(Candidate(position, message))
            else:
                item.refusals.append(
                    Refusal(
                        message.index, problem.reason, problem.detail, message.raw, message.device
                    )
                )
