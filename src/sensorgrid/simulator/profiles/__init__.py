"""Device profiles. Importing this package registers every profile module in it."""

from sensorgrid.registry import import_modules
from sensorgrid.simulator.profiles.base import Device, Profile, Uplink, available, get

import_modules(__name__, __path__)

__all__ = ["Device", "Profile", "Uplink", "available", "get"]
