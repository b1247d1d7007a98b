"""A simulated camera's first outlier model, learned from normal pictures only
(``sensorgrid simulate --profile camera --register --outlier-model``; the demo's roof
camera, docs/images.md "In the demo").

The camera profile sends its deterministic scene (``scenes``) with
``scenes.ANOMALY_RATE`` of injected anomalies: a model trained on what it sent would
learn some anomalies as normal. Instead the same scene (same seed and device) is
rendered **without** anomalies for one whole day, every 20 minutes (every light of the
day), on a day before the demo's installations began, when no simulator sends; those
pictures are stored as the node's own through the images ingest (they are in its
timeline), and version 1 is trained on exactly that day, ``[from, to)``. The
simulator's anomalies are then flagged as outliers. A node that has a model keeps it.
"""

from datetime import UTC, datetime, timedelta

from django.utils import timezone

from sensorgrid.images.ingest import store_many
from sensorgrid.ingest.envelope import Authority, Envelope
from sensorgrid.inventory.models import Node
from sensorgrid.outliers import service
from sensorgrid.outliers.models import OutlierModel
from sensorgrid.simulator.profiles.camera import NAME

#: the normal day: before the demo's installations (2026-01-01), so nothing else is in it
TRAINING_DAY = datetime(2025, 12, 31, tzinfo=UTC)
STEP = timedelta(minutes=20)
PICTURES = 72


def store_normal_day(node: Node, seed: int, index: int) -> int:
    """Store the scene of camera ``index`` of ``seed`` without anomalies over
    ``TRAINING_DAY`` as ``node``'s pictures; how many were new."""
    from sensorgrid.simulator import scenes  # numpy: the outliers extra

    now = timezone.now()
    authority = Authority(node.organization_id, node.pk, "node", node.pk)
    stored = 0
    for chunk in range(0, PICTURES, 12):
        envelopes = []
        for n in range(chunk, min(chunk + 12, PICTURES)):
            at = TRAINING_DAY + n * STEP
            stamp = at.isoformat().replace("+00:00", "Z")
            envelopes.append(
                Envelope(
                    source="http",
                    topic=f"/api/v1/ingest/images/?name={NAME}&ts={stamp}",
                    payload=scenes.encode(scenes.picture(seed, index, at)),
                    received_at=now,
                    content_type="image/jpeg",
                    authority=authority,
                )
            )
        stored += store_many(envelopes).inserted
    return stored


def first_model(node: Node, seed: int, index: int, kind: str = "mlp") -> OutlierModel:
    """``node``'s current model of its camera pictures: the one it has, else version 1
    trained now on the normal day."""
    existing = OutlierModel.objects.current(node.pk, NAME)
    if existing is not None:
        return existing
    store_normal_day(node, seed, index)
    end = TRAINING_DAY + timedelta(days=1)
    return service.train(node, NAME, start=TRAINING_DAY, end=end, kind=kind)
