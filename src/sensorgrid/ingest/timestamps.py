"""The ingest library's name for :mod:`sensorgrid.timestamps` (decoders import it from here).

The parser itself lives outside the ingest app so that telemetry's API can read the same
timestamps without importing ingest (docs/architecture.md, apps and layers).
"""

from sensorgrid.timestamps import parse

__all__ = ["parse"]
