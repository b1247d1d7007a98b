"""The ``geo`` extra: shapely, pyproj and icalendar are imported where they are used.

A core install (``pip install sensorgrid``) has no geo libraries; the pipelines then
fail with a message that names the extra instead of an ImportError at start-up.
"""

import importlib
from types import ModuleType

from sensorgrid.geo.pipelines.items import PipelineError

HINT = "install SensorGrid with the geo extra: pip install 'sensorgrid[geo]'"


class MissingExtra(PipelineError):
    """A library of the geo extra is not installed."""


def require(module: str) -> ModuleType:
    """``module`` imported; MissingExtra naming the extra if it is not installed."""
    try:
        return importlib.import_module(module)
    except ImportError:
        package = module.split(".", 1)[0]
        raise MissingExtra(f"{package} is not installed; {HINT}") from None
