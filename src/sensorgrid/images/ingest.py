"""Pictures through the ingest pipeline's entry points: MQTT routes, HTTP, replay.

The ``image`` decoder plugs into the ingest library like any payload format: its MQTT
routes are built in (``sensorgrid/{device}/image/<name>`` and the seed's
``/images/<name>/{device}``), so the broker's ACLs let a node publish there for itself
only (brokerauth/acl.py) and the ingest service acknowledges a picture after its
transaction commits. Its payloads become pictures instead of samples, so it stores a
batch itself (``Decoder.ingest_many``) and answers with the pipeline's ``Batch``;
refusals become dead letters with a reason like every other refusal.

A payload is the picture's bytes, or a small JSON envelope
``{"ts": "2026-12-06T10:00:00Z", "data": "<base64>", "name": "door"}`` (``ts`` and
``name`` optional). The picture's name is the topic's last level that is not the
device (``door`` in both route forms), or ``?name=`` over HTTP.
"""

import base64
import binascii
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import orjson
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import Q
from django.utils import timezone

from sensorgrid import events, storable, timestamps
from sensorgrid.images import metrics as image_metrics
from sensorgrid.images import storage
from sensorgrid.images.events import ImageStored
from sensorgrid.images.models import Image
from sensorgrid.images.validate import THUMBNAIL_TYPE, Limits, Prepared, Refused, prepare
from sensorgrid.ingest import cache, filing
from sensorgrid.ingest.decoders.base import Decoder, normalized_name
from sensorgrid.ingest.envelope import Decoded, DecodeError, Envelope
from sensorgrid.ingest.mqtt.routes import Route, RouteTable
from sensorgrid.ingest.steps.devices import SUSPENDED, node_of
from sensorgrid.ingest.steps.store import dead_letter
from sensorgrid.ingest.steps.work import Batch, Outcome, Pending, Rejection
from sensorgrid.ingest.validate import timestamp_problem
from sensorgrid.inventory.models import Node
from sensorgrid.observability import metrics
from sensorgrid.telemetry.models import Reason

log = logging.getLogger(__name__)

KEY = "image"
DEFAULT_NAME = "camera"
#: A refused picture's dead letter keeps the whole payload up to this size (so it can be
#: replayed), else only its first ``KEPT_BYTES``: metadata, not megabytes.
KEEP_WHOLE = 64 * 1024
KEPT_BYTES = 4096


class StorageUnavailable(OperationalError):
    """The object store failed: like a database that is down, the batch is retried and
    nothing is acknowledged (the broker keeps the pictures; HTTP answers 503)."""


class ImageDecoder(Decoder):
    """Pictures (JPEG, PNG, WebP) as raw bytes or a JSON envelope with base64 data."""

    key = KEY
    description = "Pictures from cameras: JPEG, PNG or WebP bytes (docs/images.md)"
    routes = ("sensorgrid/{device}/image/+", "/images/+/{device}")
    content = "image"  # not JSON: POST /api/v1/ingest/images/ serves it

    def decode(self, envelope: Envelope) -> Decoded:
        raise DecodeError(Reason.DECODER_ERROR, "pictures are stored by ingest_many")

    def ingest_many(self, envelopes: Sequence[Envelope], keep_dead_letters: bool) -> Batch:
        return store_many(envelopes, keep_dead_letters)


_ROUTES = RouteTable(Route(pattern, KEY) for pattern in ImageDecoder.routes)


@dataclass(frozen=True, slots=True)
class Picture:
    """What a payload says: the picture's bytes, name and time (None: when received)."""

    data: bytes
    name: str
    ts: datetime | None


def unpack(envelope: Envelope, max_bytes: int) -> Picture:
    """Read a payload: raw bytes or the JSON envelope (module docstring); ``Refused``."""
    payload = envelope.payload
    name = name_of(envelope)
    ts = _query_ts(envelope)
    if payload[:64].lstrip()[:1] != b"{":  # JPEG, PNG and WebP never start so
        return Picture(payload, name, ts)
    if len(payload) > max_bytes * 4 // 3 + 4096:  # base64 of a picture over the limit
        raise Refused(
            Reason.TOO_LARGE,
            f"a JSON envelope of {len(payload)} bytes: its picture exceeds the limit of "
            f"{max_bytes} bytes (SENSORGRID_IMAGE_MAX_BYTES)",
        )
    try:
        document = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise Refused(Reason.MALFORMED, f"invalid JSON envelope: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("data"), str):
        raise Refused(
            Reason.MALFORMED, 'a JSON envelope needs "data": the picture as a base64 string'
        )
    try:
        data = base64.b64decode(document["data"], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise Refused(Reason.MALFORMED, f'"data" is not base64: {exc}') from None
    raw_ts = next((document[k] for k in ("ts", "time", "timestamp") if k in document), None)
    if raw_ts is not None:
        try:
            ts = timestamps.parse(raw_ts)
        except ValueError as exc:
            raise Refused(Reason.BAD_TIMESTAMP, f"ts {raw_ts!r}: {exc}") from None
    if isinstance(document.get("name"), str) and document["name"].strip():
        name = normalized_name(document["name"])
    return Picture(data, name, ts)


def _query_ts(envelope: Envelope) -> datetime | None:
    """``?ts=`` of an HTTP endpoint (kept in the envelope's topic), else None."""
    raw = (
        parse_qs(urlsplit(envelope.topic).query).get("ts", [""])[0] if "?" in envelope.topic else ""
    )
    if not raw.strip():
        return None
    try:
        return timestamps.parse(raw.strip())
    except ValueError as exc:
        raise Refused(Reason.BAD_TIMESTAMP, f"ts {raw!r}: {exc}") from None


def name_of(envelope: Envelope) -> str:
    """The picture's name: ``?name=`` of an HTTP endpoint, else the topic's last level
    that is not the device's (``sensorgrid/cam1/image/door``, ``/images/door/cam1``)."""
    parts = urlsplit(envelope.topic)
    if parts.query or envelope.topic.startswith("/api/"):
        names = parse_qs(parts.query).get("name", [])
        return normalized_name(names[0]) if names and names[0].strip() else DEFAULT_NAME
    levels = [level for level in envelope.topic.split("/") if level]
    device = envelope.device or _device_of(envelope.topic)
    if device and device in levels:
        position = len(levels) - 1 - levels[::-1].index(device)
        del levels[position]
    return normalized_name(levels[-1]) if levels else DEFAULT_NAME


def _device_of(topic: str) -> str:
    """The device a built-in image route names in ``topic`` (a replayed letter's)."""
    match = _ROUTES.match(topic)
    return match.device if match else ""


def store_many(envelopes: Sequence[Envelope], keep_dead_letters: bool = True) -> Batch:
    """Store each envelope's picture, or refuse it: one transaction (the caller's, if
    one is open), objects written before their rows, ``ImageStored`` after commit.

    Raises ``StorageUnavailable`` if the object store fails (nothing of the batch is
    kept; the caller retries or answers 503).
    """
    now = timezone.now()
    limits = Limits.from_settings()
    outcomes: list[Outcome] = []
    pending: list[Pending] = []
    heard: dict[int, datetime] = {}
    inserted = duplicates = written = 0
    with transaction.atomic():
        for envelope in envelopes:
            outcome = Outcome()
            outcomes.append(outcome)
            node, refusal = _node(envelope)
            if refusal is None:
                assert node is not None
                try:
                    new = _store_one(envelope, node, limits, now)
                except Refused as exc:
                    refusal = Rejection(0, exc.reason, exc.detail)
                else:
                    written += new
                    outcome.accepted, outcome.duplicates = int(new > 0), int(new == 0)
                    inserted += outcome.accepted
                    duplicates += outcome.duplicates
                    heard[node.id] = max(
                        heard.get(node.id, envelope.received_at), envelope.received_at
                    )
            if refusal is not None:
                outcome.refused = refusal
                if keep_dead_letters:
                    pending.append(_pending(envelope, refusal, node))
        letters = filing.file([dead_letter(p) for p in pending])
        for p, letter in zip(pending, letters, strict=True):
            for outcome, envelope in zip(outcomes, envelopes, strict=True):
                if envelope is p.envelope:
                    outcome.dead_letter_ids.append(letter.pk)
        _touch(heard)
        counted = [(p.reason, p.envelope.source) for p in pending]
        transaction.on_commit(lambda: metrics.dead_lettered(counted))
        source = envelopes[0].source if envelopes else "mqtt"
        transaction.on_commit(lambda: image_metrics.IMAGES.labels(source, "new").inc(inserted))
        transaction.on_commit(
            lambda: image_metrics.IMAGES.labels(source, "duplicate").inc(duplicates)
        )
        transaction.on_commit(lambda: image_metrics.IMAGE_BYTES.inc(written))
    return Batch(outcomes, inserted, duplicates)


def _node(envelope: Envelope) -> tuple[cache.NodeRef | None, Rejection | None]:
    """The node the picture is from, or why it is refused (the sample pipeline's rules:
    a node credential writes for its node only, a topic's device is looked up in the
    sender's organization or, on an unbound route, as brokerauth lets it publish)."""
    authority = envelope.authority
    device = envelope.device or _device_of(envelope.topic)
    if not device:
        if authority is None or authority.node_id is None:
            return None, Rejection(
                0, Reason.UNKNOWN_DEVICE, "the topic names no device and no node credential sent it"
            )
        row = (
            Node.objects.filter(pk=authority.node_id)
            .values_list("organization_id", "organization__suspended_at")
            .first()
        )
        if row is None:
            return None, Rejection(0, Reason.UNKNOWN_DEVICE, "the credential's node is gone")
        node = cache.NodeRef(authority.node_id, row[0], "", row[1] is not None)
    else:
        found, problem = node_of(device, cache.directory.nodes({device}), authority, device)
        if problem is not None:
            return None, Rejection(0, problem.reason, problem.detail)
        if found is None:
            return None, Rejection(0, Reason.UNKNOWN_DEVICE, f"no node has device id {device!r}")
        if authority is not None and authority.node_id not in (None, found.id):
            return None, Rejection(
                0, Reason.FORBIDDEN_DEVICE, f"this credential may not write for device {device!r}"
            )
        node = found
    if node.suspended:
        return node, Rejection(0, Reason.ORGANIZATION_SUSPENDED, SUSPENDED)
    return node, None


def _store_one(envelope: Envelope, node: cache.NodeRef, limits: Limits, now: datetime) -> int:
    """Store one picture: the bytes of its original, 0 if it was stored before (same
    node, name, time and bytes)."""
    picture = unpack(envelope, limits.max_bytes)
    ts = picture.ts or envelope.received_at
    problem = timestamp_problem(ts, now)
    if problem is not None:
        raise Refused(problem.reason, problem.detail)
    prepared = prepare(picture.data, limits)
    same = Image.objects.filter(node_id=node.id, name=picture.name, ts=ts, sha256=prepared.sha256)
    if same.exists():
        return 0
    image = _row(node, picture.name, ts, prepared, now)
    try:
        storage.save(image.key, prepared.original, prepared.content_type)
        storage.save(image.thumbnail_key, prepared.thumbnail, THUMBNAIL_TYPE)
    except Exception as exc:
        log.warning("image store failed for %s: %s", image.key, exc)
        raise StorageUnavailable(f"the image store failed: {type(exc).__name__}: {exc}") from exc
    try:
        with transaction.atomic():  # a savepoint: a concurrent twin leaves the batch alone
            image.save(force_insert=True)
    except IntegrityError:
        return 0  # the same keys: its objects are these very bytes
    events.announce(ImageStored(image.pk, node.id, node.organization_id, image.name, ts))
    return image.size


def _row(node: cache.NodeRef, name: str, ts: datetime, prepared: Prepared, now: datetime) -> Image:
    base = storage.base_key(node.id, name, ts, prepared.sha256)
    key = f"{base}.{storage.EXTENSIONS[prepared.content_type]}"
    return Image(
        node_id=node.id,
        name=name,
        ts=ts,
        received_at=now,
        content_type=prepared.content_type,
        size=len(prepared.original),
        width=prepared.width,
        height=prepared.height,
        sha256=prepared.sha256,
        key=key,
        thumbnail_key=storage.derived_key(key, "thumb", THUMBNAIL_TYPE),
        thumbnail_content_type=THUMBNAIL_TYPE,
    )


def _pending(envelope: Envelope, refusal: Rejection, node: cache.NodeRef | None) -> Pending:
    """A refusal's dead letter: the whole payload if small, else its first bytes."""
    payload, detail = envelope.payload, refusal.detail
    if len(payload) > KEEP_WHOLE:
        detail += f" (payload of {len(payload)} bytes kept as its first {KEPT_BYTES})"
        payload = payload[:KEPT_BYTES]
    device = envelope.device or _device_of(envelope.topic)
    return Pending(envelope, KEY, payload, refusal.reason, detail, storable.escaped(device), node)


def _touch(heard: dict[int, datetime]) -> None:
    """Move the nodes' last_seen forward: a picture is a sign of life like a value."""
    for node_id, at in heard.items():
        Node.objects.filter(pk=node_id).filter(
            Q(last_seen__lt=at) | Q(last_seen__isnull=True)
        ).update(last_seen=at)


__all__ = ["ImageDecoder", "StorageUnavailable", "store_many", "unpack"]
