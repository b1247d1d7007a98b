"""Every codec SensorGrid ships, fed random bytes and damaged valid frames, either
returns {quantity key: finite float} or raises CodecError: never another exception.
And every key a codec emits is a registered quantity, or one with a number suffix.
"""

import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sensorgrid.ingest import codecs
from sensorgrid.ingest.codecs import CodecError, cayenne_lpp, decentlab_products, milesight
from sensorgrid.inventory.models import Quantity
from sensorgrid.inventory.quantities import SEED
from tests.ingest.codecs import (
    test_cayenne_lpp,
    test_decentlab,
    test_dragino,
    test_elsys,
    test_milesight,
)

EXAMPLES = [
    *test_cayenne_lpp.EXAMPLES,
    *test_decentlab.EXAMPLES,
    *test_dragino.EXAMPLES,
    *test_elsys.EXAMPLES,
    *test_milesight.EXAMPLES,
]
FRAMES: dict[str, list[bytes]] = {}
for _key, _frame, _expected in EXAMPLES:
    FRAMES.setdefault(_key, []).append(bytes.fromhex(_frame))

# The codecs SensorGrid ships; other test modules register codecs of their own.
BUILT_IN = [
    key
    for key in codecs.available()
    if type(codecs.get(key)).__module__.startswith("sensorgrid.ingest.codecs.")
]
SEEDED = {key for key, *_ in SEED}
SUFFIXED = re.compile(r"^(?P<base>.+)_(?P<number>[0-9]+)$")


def is_registered_or_suffixed(key: str) -> bool:
    match = SUFFIXED.match(key)
    return key in SEEDED or (match is not None and match["base"] in SEEDED)


def check(key: str, data: bytes, port: int | None) -> None:
    try:
        values = codecs.get(key).decode(data, port)
    except CodecError as error:
        assert 0 <= error.offset <= len(data)
        return
    assert isinstance(values, dict)
    for quantity, value in values.items():
        assert isinstance(quantity, str)
        assert type(value) is float, (quantity, value)
        assert math.isfinite(value), (quantity, value)
        assert is_registered_or_suffixed(quantity), quantity


def test_every_codec_has_example_frames():
    assert set(FRAMES) == set(BUILT_IN)


@pytest.mark.parametrize("key", BUILT_IN)
@settings(max_examples=300, deadline=None, database=None)
@given(data=st.binary(max_size=80), port=st.none() | st.integers(0, 255))
def test_random_bytes_decode_or_raise_codec_error(key, data, port):
    check(key, data, port)


@st.composite
def damaged(draw, frames: list[bytes]) -> bytes:
    """A valid frame with a few bytes changed, cut, inserted, dropped or appended."""
    frame = bytearray(draw(st.sampled_from(frames)))
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.integers(0, len(frame)))
        action = draw(st.sampled_from(["change", "cut", "insert", "drop", "append"]))
        if action == "change" and where < len(frame):
            frame[where] = draw(st.integers(0, 255))
        elif action == "cut":
            del frame[where:]
        elif action == "insert":
            frame[where:where] = draw(st.binary(min_size=1, max_size=4))
        elif action == "drop" and where < len(frame):
            del frame[where]
        elif action == "append":
            frame += draw(st.binary(min_size=1, max_size=12))
    return bytes(frame)


@pytest.mark.parametrize("key", BUILT_IN)
@settings(max_examples=300, deadline=None, database=None)
@given(data=st.data())
def test_damaged_valid_frames_decode_or_raise_codec_error(key, data):
    check(key, data.draw(damaged(FRAMES[key])), None)


def table_quantities() -> set[str]:
    """The quantity keys named in the codecs' tables (the table-driven codecs)."""
    keys = {field.quantity for lpp in cayenne_lpp.TYPES.values() for field in lpp.fields}
    keys |= {key for key, _fmt, _convert in milesight.CHANNELS.values() if key}
    for product in decentlab_products.PRODUCTS:
        keys |= product.quantities()
    return keys


def emitted_plain_keys() -> set[str]:
    """Keys without a number suffix that the codecs emit, from tables and examples."""
    keys = table_quantities()
    for key, frame, _expected in EXAMPLES:
        keys |= set(codecs.get(key).decode(bytes.fromhex(frame)))
    for key in ("elsys", "dragino_lht65"):  # function-driven: every field, by frame
        keys |= set(codecs.get(key).decode(bytes.fromhex(EVERY_FIELD[key])))
    return {key for key in keys if key in SEEDED or not SUFFIXED.match(key)}


EVERY_FIELD = {
    "elsys": (
        "0100E2 0229 033F C100 040027 0506 060308 070E41 095F76060A96F2 0A002A 0C00FB"
        " 0E04D2 1000DC015E 12FF 14000F6738 15502D 160007 1900C8 1C01F4"
    ),
    "dragino_lht65": "CBF6 0B0D 0376 01 0ADD 7FFF",
}


def test_every_plain_key_the_codecs_emit_is_in_the_seed():
    assert emitted_plain_keys() - SEEDED == set()


def test_every_plain_key_the_codecs_emit_is_in_the_database(db):
    # The migrations (0002, 0006) seeded them: the pipeline would refuse the rest.
    keys = emitted_plain_keys()
    assert set(Quantity.objects.filter(key__in=keys).values_list("key", flat=True)) == keys
