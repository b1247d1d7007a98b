"""One shared object per event loop: a web process's hub, rechecker and lookups.

In production a process has one loop; tests make a new loop per test, so an object
bound to a closed loop is dropped and the registry does not grow.
"""

import asyncio
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def one_per_loop(
    registry: dict[asyncio.AbstractEventLoop, T],
    make: Callable[[], T],
    fits: Callable[[T], bool] = lambda found: True,
) -> T:
    """The running loop's object in ``registry``, made by ``make`` when there is none
    yet (or the one there no longer ``fits``)."""
    loop = asyncio.get_running_loop()
    found = registry.get(loop)
    if found is None or not fits(found):
        for old in [old for old in registry if old.is_closed()]:
            del registry[old]
        found = registry[loop] = make()
    return found
