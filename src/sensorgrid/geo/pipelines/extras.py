"""The ``geo`` extra inside the pipelines: shapely, pyproj, icalendar and croniter are
imported where they are used (``sensorgrid.extras``), so a core install starts.

A missing library becomes a ``PipelineError``: the run fails with the install to make
(``pip install 'sensorgrid[geo]'``) instead of an ImportError in the worker.
"""

from types import ModuleType

from sensorgrid import extras
from sensorgrid.geo.pipelines.items import PipelineError

FEATURE = "Open-data pipelines"


class MissingExtra(PipelineError):
    """A library of the geo extra is not installed."""


def require(module: str) -> ModuleType:
    """``module`` imported; MissingExtra naming the extra if it is not installed."""
    try:
        return extras.require(module, "geo", FEATURE)
    except extras.MissingExtra as exc:
        raise MissingExtra(str(exc)) from None
