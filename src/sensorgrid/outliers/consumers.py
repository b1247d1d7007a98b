"""The outliers app's event consumers (settings.AFTER_COMMIT_CONSUMERS).

Kept apart from ``tasks``: the events system check imports every consumer when any
command starts, and importing Huey's Django integration builds the queue from the
settings of that moment (``sensorgrid demo --redis`` checks before it restarts itself
with Redis set, and would leave a SQLite queue file behind).
"""

from sensorgrid.images.events import ImageStored
from sensorgrid.outliers.models import OutlierModel


def after_image_stored(stored: ImageStored) -> None:
    """``ImageStored`` consumer: queue the picture for scoring if a model watches it."""
    if OutlierModel.objects.filter(node_id=stored.node_id, name=stored.name).exists():
        from sensorgrid.outliers.tasks import score

        score(stored.image_id)
