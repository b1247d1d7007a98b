"""Everything that changes data through the SensorThings API (docs/sensorthings.md).

``create`` (POST, deep insert), ``update`` (PATCH/PUT), ``apply_json_patch``,
``delete`` (with the spec's cascades), ``link``/``unlink`` (``$ref``),
``create_observations`` (dataArray) and ``batch.process`` (JSON ``$batch``). Each runs in one
transaction and raises ``StaError`` for what it refuses; the views render it.
"""

from sensorgrid.sensorthings.write import batch
from sensorgrid.sensorthings.write.create import create
from sensorgrid.sensorthings.write.dataarray import create_observations
from sensorgrid.sensorthings.write.delete import delete, delete_many
from sensorgrid.sensorthings.write.links import link, unlink
from sensorgrid.sensorthings.write.update import apply_json_patch, update

__all__ = [
    "apply_json_patch",
    "batch",
    "create",
    "create_observations",
    "delete",
    "delete_many",
    "link",
    "unlink",
    "update",
]
