"""The codec registry. A codec turns a device's binary frame into quantity values.

Codecs decode what LoRaWAN devices send (``frm_payload``), chosen by the node
model's ``decoder`` field when the network server did not decode the frame itself.
To add one: subclass ``Codec``, set ``key``, implement ``decode`` as a pure
function, and import the module in ``codecs/__init__.py``.
"""

from typing import Any, ClassVar

_REGISTRY: dict[str, "Codec"] = {}


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
        if cls.key in _REGISTRY:
            raise ValueError(f"two codecs claim the key {cls.key!r}")
        _REGISTRY[cls.key] = cls()

    def decode(self, data: bytes, port: int | None = None) -> dict[str, float]:
        """Return {quantity key: value}; raise CodecError for a truncated or corrupt frame.

        Fields the codec does not know, or that have no quantity, are skipped.
        """
        raise NotImplementedError


def get(key: str) -> Codec:
    try:
        return _REGISTRY[key]
    except KeyError:
        raise KeyError(f"no codec {key!r}; known: {', '.join(sorted(_REGISTRY))}") from None


def available() -> list[str]:
    return sorted(_REGISTRY)
