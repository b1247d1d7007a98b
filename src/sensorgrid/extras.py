"""Optional libraries: what a feature outside the core needs, and the install that brings it.

A core install (``pip install sensorgrid``) serves, ingests over HTTP and MQTT, runs the
worker and streams live values. The embedded demo broker (``demo`` extra: amqtt) and the
open-data pipelines (``geo`` extra) need more; their modules import those libraries where
they are used, through ``require``, so a core install starts and only the feature that
needs a missing library fails, with a message that says what to install.
"""

import importlib
import importlib.util
from types import ModuleType


class MissingExtra(ImportError):
    """A feature needs a library of an extra that is not installed."""

    def __init__(self, module: str, extra: str, feature: str) -> None:
        package = module.split(".", 1)[0]
        super().__init__(
            f"{feature} needs {package}, which is not installed: pip install 'sensorgrid[{extra}]'",
            name=package,
        )
        self.extra = extra


def require(module: str, extra: str, feature: str) -> ModuleType:
    """``module`` imported, or ``MissingExtra`` naming ``extra`` for ``feature``."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        # Only the library itself missing is "install the extra"; a broken install of it
        # (one of its own imports failing) is reported as it is.
        if exc.name is None or exc.name.split(".", 1)[0] != module.split(".", 1)[0]:
            raise
        raise MissingExtra(module, extra, feature) from None


def installed(module: str) -> bool:
    """Whether ``module``'s top-level package can be imported (without importing it)."""
    try:
        return importlib.util.find_spec(module.split(".", 1)[0]) is not None
    except ImportError:
        return False
