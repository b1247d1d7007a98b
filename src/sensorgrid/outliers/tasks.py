"""Scoring pictures on the worker, off the ingest path (docs/images.md)."""

import logging

from huey.contrib.djhuey import db_task

from sensorgrid.extras import MissingExtra
from sensorgrid.outliers.features import UnreadablePicture

log = logging.getLogger(__name__)


@db_task(name="outliers.score", retries=2, retry_delay=10)
def score(image_id: int) -> bool | None:
    """Score one stored picture with its node's current model; its verdict (or None)."""
    from sensorgrid.outliers import service

    try:
        done = service.score_image(image_id)
    except (MissingExtra, UnreadablePicture) as exc:  # trying again would not help
        # MissingExtra: a core install whose database holds a model trained elsewhere.
        log.error("picture %s not scored: %s", image_id, exc)
        return None
    return None if done is None else done.is_outlier
