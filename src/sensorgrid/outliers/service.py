"""Training versions and scoring pictures: the database and storage side of ``detector``.

- ``train`` reads the chosen normal pictures of one node and image name from the images
  storage, trains a ``detector.Detector``, writes its archive to the same storage and
  adds an ``OutlierModel`` version (the newest scores from then on).
- ``score_image`` (the worker, after a picture is committed) scores a picture with the
  current version of its node and name, stores the reconstruction and an
  ``OutlierScore``, steps the image-outlier alert rules and announces ``OutlierScored``
  after commit. Scoring a picture twice with the same version changes nothing.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Max

from sensorgrid import events
from sensorgrid.images import storage
from sensorgrid.images.models import Image
from sensorgrid.inventory.models import Node
from sensorgrid.outliers import detector, features
from sensorgrid.outliers.events import OutlierScored
from sensorgrid.outliers.models import OutlierModel, OutlierScore

log = logging.getLogger(__name__)

#: the most pictures one training reads (memory: 4 KB per picture once downscaled)
MAX_TRAINING_PICTURES = 20_000


class NoPictures(detector.TrainingError):
    """The chosen range holds too few pictures."""


def training_images(
    node: Node,
    name: str,
    start: datetime | None = None,
    end: datetime | None = None,
    first: int | None = None,
):
    """The node's pictures of ``name`` in [start, end), oldest first, at most ``first``."""
    images = Image.objects.filter(node=node, name=name).order_by("ts", "pk")
    if start is not None:
        images = images.filter(ts__gte=start)
    if end is not None:
        images = images.filter(ts__lt=end)
    return images[: min(first or MAX_TRAINING_PICTURES, MAX_TRAINING_PICTURES)]


def train(
    node: Node,
    name: str,
    start: datetime | None = None,
    end: datetime | None = None,
    first: int | None = None,
    kind: str = "mlp",
    quantile: float = detector.DEFAULT_QUANTILE,
    margin: float = detector.DEFAULT_MARGIN,
    seed: int = 0,
    user=None,
) -> OutlierModel:
    """A new version of ``node``'s model for ``name``, trained on the chosen pictures."""
    chosen = list(training_images(node, name, start, end, first))
    if len(chosen) < detector.MIN_PICTURES:
        raise NoPictures(
            f"node {node.device_id} has {len(chosen)} pictures named {name!r} in the chosen "
            f"range; a model needs at least {detector.MIN_PICTURES}"
        )
    x = features.matrix([storage.read(image.key) for image in chosen])
    trained = detector.train(x, kind=kind, quantile=quantile, margin=margin, seed=seed)
    archive = trained.dumps()
    digest = hashlib.sha256(archive).hexdigest()
    for _attempt in range(5):  # two trainings at once: the second takes the next number
        version = (
            OutlierModel.objects.filter(node=node, name=name).aggregate(v=Max("version"))["v"] or 0
        ) + 1
        key = f"outliers/{node.pk}/{name}/v{version}-{digest[:16]}.npz"
        storage.save(key, archive, "application/octet-stream")
        try:
            with transaction.atomic():
                return OutlierModel.objects.create(
                    node=node,
                    name=name,
                    version=version,
                    kind=kind,
                    created_by=user if getattr(user, "pk", None) else None,
                    trained_from=start,
                    trained_to=end,
                    first=first,
                    pictures=len(chosen),
                    first_ts=chosen[0].ts,
                    last_ts=chosen[-1].ts,
                    size=trained.info["size"],
                    quantile=quantile,
                    margin=margin,
                    threshold=trained.threshold,
                    training_error_mean=trained.info["training_error_mean"],
                    training_error_max=trained.info["training_error_max"],
                    archive_key=key,
                    archive_sha256=digest,
                )
        except IntegrityError:
            storage.delete([key])
    raise RuntimeError(f"could not number a new version of {name!r} for node {node.pk}")


# ---------------------------------------------------------------- loading


class _Loaded:
    """Detectors by model id (versions never change once written), newest used kept."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._items: OrderedDict[int, detector.Detector] = OrderedDict()

    def get(self, model: OutlierModel) -> detector.Detector:
        with self._lock:
            found = self._items.get(model.pk)
            if found is not None:
                self._items.move_to_end(model.pk)
                return found
        data = storage.read(model.archive_key)
        if hashlib.sha256(data).hexdigest() != model.archive_sha256:
            raise ValueError(f"the archive of outlier model {model.pk} was changed in storage")
        loaded = detector.Detector.loads(data)
        with self._lock:
            self._items[model.pk] = loaded
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return loaded


loaded = _Loaded()


# ---------------------------------------------------------------- scoring


def score_image(image_id: int, model: OutlierModel | None = None) -> OutlierScore | None:
    """Score picture ``image_id`` with ``model`` (default: its node's and name's newest
    version). None when there is no such picture (deleted since) or no model."""
    image = Image.objects.select_related("node").filter(pk=image_id).first()
    if image is None:
        return None
    model = model or OutlierModel.objects.current(image.node_id, image.name)
    if model is None:
        return None
    done = OutlierScore.objects.filter(image=image, model=model).first()
    if done is not None:
        return done
    trained = loaded.get(model)
    x = features.vector(storage.read(image.key), size=model.size)
    error, outlier, reconstruction = trained.score(x)
    key = storage.derived_key(image.key, f"reconstruction-m{model.pk}", "image/png")
    storage.save(key, features.png(reconstruction), "image/png")
    from sensorgrid.outliers import alerting  # the alert rules step inside the transaction

    try:
        with transaction.atomic():
            score = OutlierScore.objects.create(
                image=image,
                model=model,
                node_id=image.node_id,
                name=image.name,
                ts=image.ts,
                score=error,
                threshold=model.threshold,
                is_outlier=outlier,
                reconstruction_key=key,
            )
            alerting.step(score, image.node.organization_id)
            events.announce(
                OutlierScored(
                    score_id=score.pk,
                    image_id=image.pk,
                    node_id=image.node_id,
                    organization_id=image.node.organization_id,
                    name=image.name,
                    ts=image.ts,
                    score=error,
                    threshold=model.threshold,
                    is_outlier=outlier,
                    model_version=model.version,
                )
            )
    except IntegrityError:  # another worker scored it meanwhile
        return OutlierScore.objects.filter(image=image, model=model).first()
    return score


def acknowledge(score: OutlierScore, user, now: datetime) -> bool:
    """Mark an outlier seen (once), and the open alert it is part of (``alerting``).
    Returns whether the score changed."""
    from sensorgrid.outliers import alerting

    with transaction.atomic():
        changed = OutlierScore.objects.filter(pk=score.pk, acknowledged_at__isnull=True).update(
            acknowledged_at=now, acknowledged_by=user
        )
        if changed:
            score.refresh_from_db()
            if score.is_outlier:
                alerting.acknowledge_alerts(score, user, now)
    return bool(changed)
