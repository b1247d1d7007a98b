"""One spelling per device id: a LoRaWAN DevEUI is stored and looked up in lower-case hex.

Network servers write a DevEUI in either case (The Things Stack upper-case in
``dev_eui``, lower-case in its ``eui-…`` device ids, ChirpStack lower-case). Two
spellings of one EUI must never be two devices: that let another organization
register a case variant and capture or block the owner's uplinks (docs/lorawan.md).
Other device ids keep their spelling; their uniqueness within an organization
ignores case too (a constraint on ``Lower(device_id)``).
"""

import re

_EUI64 = re.compile(r"[0-9A-Fa-f]{16}")


def canonical(device_id: str) -> str:
    """``device_id`` in its stored form: a 16-hex-digit id (a DevEUI) in lower case."""
    if len(device_id) == 16 and _EUI64.fullmatch(device_id):
        return device_id.lower()
    return device_id
