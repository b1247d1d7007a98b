"""What the outliers app announces after a picture's score commits (``sensorgrid.events``).

Consumers are listed in settings
``AFTER_COMMIT_CONSUMERS["sensorgrid.outliers.events.OutlierScored"]`` (the live app
pushes it to the node's followers); outliers imports none of them.
"""

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class OutlierScored:
    """One picture scored by one model version."""

    score_id: int  # sensorgrid.outliers.models.OutlierScore primary key
    image_id: int
    node_id: int
    organization_id: int
    name: str
    ts: datetime
    score: float
    threshold: float
    is_outlier: bool
    model_version: int
