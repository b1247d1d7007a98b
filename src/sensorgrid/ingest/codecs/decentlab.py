"""The Decentlab protocol, once for every product; the products are data.

Every Decentlab DL-xxx frame is::

    version (uint8, = 2) · device id (uint16) · flags (uint16) · words (uint16 …)

all big-endian. Bit *n* of the flags says that sensor group *n* of the product is in
the frame; each group is a fixed number of words, in group order, and its values are
the product's formulas over those words. The frame does not name the product, and
different products give frames of the same length and flags, so a node model names
its product's codec (``decentlab_dl_iam`` …); the products are the table in
``decentlab_products.py`` and adding one is adding a row there.

A value's formula gives Decentlab's value in Decentlab's unit, as their published
decoders (github.com/decentlab/decentlab-decoders) do; the codec then changes it to
the unit of the SensorGrid quantity it maps to (``inventory/quantities.py``), so a
unit is declared once and a missing conversion fails at import, not in a sample.
Values that map to no quantity are read (the frame stays aligned) and skipped.

Refusals, all ``CodecError`` (the pipeline's ``malformed`` dead letter): another
protocol version; flags selecting a group the product does not have; a frame cut
inside the header or a group; bytes left after the selected groups.
"""

from collections.abc import Callable
from dataclasses import dataclass

from sensorgrid.ingest.codecs.base import Codec, CodecError
from sensorgrid.ingest.codecs.binary import Reader
from sensorgrid.inventory.quantities import SEED

PROTOCOL_VERSION = 2
HEADER = ">BHH"

Words = tuple[int, ...]

# Decentlab's unit → the quantity's unit. Units that are equal need no entry.
UNIT_CHANGES: dict[tuple[str, str], Callable[[float], float]] = {
    ("Pa", "hPa"): lambda value: value / 100,
    ("kPa", "hPa"): lambda value: value * 10,
    ("mm", "m"): lambda value: value / 1000,
}
QUANTITY_UNITS = {key: unit for key, _name, unit, _low, _high in SEED}


def _same(value: float) -> float:
    return value


@dataclass(frozen=True, slots=True)
class Value:
    """One value of a sensor group: Decentlab's name, unit and formula, and the
    SensorGrid quantity it is stored as (``None``: read and skipped)."""

    name: str
    unit: str
    convert: Callable[[Words], float]
    quantity: str | None = None

    def to_quantity(self) -> Callable[[float], float]:
        """The unit change from Decentlab's unit to the quantity's; ``LookupError``
        names the pair when the table has none (raised when the product is built)."""
        if self.quantity is None:
            return _same
        unit = QUANTITY_UNITS[self.quantity]
        if unit == self.unit:
            return _same
        try:
            return UNIT_CHANGES[(self.unit, unit)]
        except KeyError:
            raise LookupError(
                f"{self.name!r} is in {self.unit!r}, quantity {self.quantity!r} in "
                f"{unit!r}: decentlab.UNIT_CHANGES has no conversion"
            ) from None


@dataclass(frozen=True, slots=True)
class Group:
    """A sensor group: ``words`` 16-bit words when its flag bit is set."""

    name: str
    words: int
    values: tuple[Value, ...]


@dataclass(frozen=True, slots=True)
class Product:
    """A Decentlab product: its groups in flag-bit order."""

    name: str  # as Decentlab writes it: "DL-IAM"
    description: str
    groups: tuple[Group, ...]

    @property
    def key(self) -> str:
        """The codec key: ``DL-IAM`` → ``decentlab_dl_iam``."""
        return "decentlab_" + self.name.lower().replace("-", "_")

    def quantities(self) -> set[str]:
        return {v.quantity for g in self.groups for v in g.values if v.quantity is not None}


def read_frame(data: bytes, product: Product) -> dict[str, float]:
    """Decentlab's view of a frame: ``{value name: value in Decentlab's unit}``, with
    ``Device ID`` and ``Protocol version``, as their decoders return it."""
    reader = Reader(data)
    version, device_id, flags = reader.read(HEADER, "header (version, device id, flags)")
    if version != PROTOCOL_VERSION:
        raise CodecError(
            0,
            f"Decentlab protocol version {version}, expected {PROTOCOL_VERSION}: "
            f"is this a Decentlab frame?",
        )
    groups = product.groups
    if flags >> len(groups):
        raise CodecError(
            3,
            f"flags 0x{flags:04X} select sensor groups that {product.name} does not have "
            f"(it has {len(groups)}): is this a {product.name} frame?",
        )
    values = {"Device ID": float(device_id), "Protocol version": float(version)}
    for bit, group in enumerate(groups):
        if flags & (1 << bit):
            words = reader.read(f">{group.words}H", f"{group.name} ({group.words} words)")
            for value in group.values:
                values[value.name] = float(value.convert(words))
    if reader.left():
        raise CodecError(
            reader.offset,
            f"{reader.left()} byte(s) left after the sensor groups the flags 0x{flags:04X} "
            f"select: is this a {product.name} frame?",
        )
    return values


# (value name, quantity key, unit change) for each value stored: made once a product.
Plan = tuple[tuple[str, str, Callable[[float], float]], ...]


def plan(product: Product) -> Plan:
    """What ``product``'s codec stores; ``LookupError`` for a unit without conversion."""
    return tuple(
        (value.name, value.quantity, value.to_quantity())
        for group in product.groups
        for value in group.values
        if value.quantity is not None
    )


def register(product: Product) -> type[Codec]:
    """Register the product's codec under ``product.key``; check its units first."""
    stored = plan(product)

    class ProductCodec(Codec):
        key = product.key
        description = f"Decentlab {product.name} {product.description}"

        def decode(self, data: bytes, port: int | None = None) -> dict[str, float]:
            """``{quantity: value in its unit}``; Decentlab's decoders ignore the port."""
            read = read_frame(data, product)
            return {key: change(read[name]) for name, key, change in stored if name in read}

    ProductCodec.__name__ = ProductCodec.__qualname__ = product.name.replace("-", "")
    return ProductCodec
