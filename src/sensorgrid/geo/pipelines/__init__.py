"""ETL pipelines: fetch → parse → transform → load (docs/pipelines.md).

Importing this package registers the built-in sources and steps.
"""

from sensorgrid.geo.pipelines import sources, steps  # noqa: F401
from sensorgrid.geo.pipelines.runner import run

__all__ = ["run"]
