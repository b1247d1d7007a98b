"""Device profiles. Importing this package registers the built-in ones."""

from sensorgrid.simulator.profiles import elsys, kpi, lorawan, outdoor, room, vehicle  # noqa: F401
from sensorgrid.simulator.profiles.base import Device, Profile, Uplink, available, get

__all__ = ["Device", "Profile", "Uplink", "available", "get"]
