"""The codec registry. A codec turns a device's binary frame into quantity values.

Codecs decode what LoRaWAN devices send (``frm_payload``), chosen by the node
model's ``codec`` field when the network server did not decode the frame itself.
To add one: subclass ``Codec``, set ``key``, implement ``decode`` as a pure
function, and import the module in ``codecs/__init__.py``.
"""

from typing import Any, ClassVar

from sensorgrid.registry import Registry

REGISTRY: Registry["Codec"] = Registry("codec")


class CodecError(ValueError):
    """The frame is truncated or corrupt; ``offset`` is the byte where reading failed."""

    def __init__(self, offset: int, detail: str) -> None:
        super().__init__(f"byte {offset}: {detail}")
        self.offset = offset
        self.detail = detail


class Codec:
    key: ClassVar[str]
    description: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        REGISTRY.add(cls.key, cls())

    def decode(self, data: bytes, port: int | None = None) -> dict[str, float]:
        """Return {quantity key: value}; raise CodecError for a truncated or corrupt frame.

        Fields the codec does not know, or that have no quantity, are skipped.
        """
        raise NotImplementedError


def get(key: str) -> Codec:
    return REGISTRY.get(key)


def available() -> list[str]:
    return REGISTRY.keys()
