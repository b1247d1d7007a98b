"""What the images app announces after a picture is stored (``sensorgrid.events``).

Its consumers are listed, in order and with their phase, in settings
``AFTER_COMMIT_CONSUMERS["sensorgrid.images.events.ImageStored"]`` (the outliers app
scores the picture off the ingest path, the live app pushes it); images imports none of
them. A resent picture (same node, name, time and bytes) is not announced again.
"""

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ImageStored:
    """One picture committed with its original and thumbnail in the store."""

    image_id: int  # sensorgrid.images.models.Image primary key
    node_id: int
    organization_id: int
    name: str
    ts: datetime
