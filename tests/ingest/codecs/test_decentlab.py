"""Decentlab: the example frames of Decentlab's decoders, and broken frames."""

import pytest

from sensorgrid.ingest import codecs
from sensorgrid.ingest.codecs import CodecError

# The example payloads of Decentlab's published decoders (github.com/decentlab/
# decentlab-decoders, DL-PM/DL-PM.py, DL-LP8P/DL-LP8P.py, DL-SHT35/DL-SHT35.py), which
# are also the datasheets' examples. Sensirion conversions are given to 1e-4; the
# datasheets round them to two decimals (24.36 °C, 41.63 %, 23.79 °C, 47.54 %).
EXAMPLES = [
    (
        "decentlab_dl_pm",
        "021b50000f0c25002500270027002701f50107012c012d012d012d67bd618dbd10",
        {
            "battery": 3.109,
            "pm1": 3.7,
            "pm2_5": 3.9,
            "pm10": 3.9,
            "temperature": 24.3566,
            "humidity": 41.6322,
            "pressure": 968.0,
        },
    ),
    (
        "decentlab_dl_pm",
        "021b50000d0c2567bd618dbd10",
        {"battery": 3.109, "temperature": 24.3566, "humidity": 41.6322, "pressure": 968.0},
    ),
    ("decentlab_dl_pm", "021b5000010c25", {"battery": 3.109}),
    (
        "decentlab_dl_lp8p",
        "020578000f67bd618d1cedbd1081d981f4895b0bd80bb50000959895390c25",
        {
            "temperature": 24.3566,
            "humidity": 41.6322,
            "pressure": 968.0,
            "co2": 473.0,
            "battery": 3.109,
        },
    ),
    (
        "decentlab_dl_lp8p",
        "020578000b67bd618d1cedbd100c25",
        {"temperature": 24.3566, "humidity": 41.6322, "pressure": 968.0, "battery": 3.109},
    ),
    ("decentlab_dl_lp8p", "02057800080c25", {"battery": 3.109}),
    (
        "decentlab_dl_sht35",
        "02030e000364a079b10c60",
        {"temperature": 23.7877, "humidity": 47.5364, "battery": 3.168},
    ),
    ("decentlab_dl_sht35", "02030e00020c60", {"battery": 3.168}),
]


@pytest.mark.parametrize(("key", "frame", "expected"), EXAMPLES)
def test_it_decodes_the_published_examples(key, frame, expected):
    values = codecs.get(key).decode(bytes.fromhex(frame))
    assert values == pytest.approx(expected, abs=1e-4, rel=0)
    assert all(type(value) is float for value in values.values())


def test_exact_scalings_are_exact():
    values = codecs.get("decentlab_dl_pm").decode(bytes.fromhex(EXAMPLES[0][1]))
    assert (values["battery"], values["pm2_5"], values["pressure"]) == (3.109, 3.9, 968.0)


def test_each_product_has_its_own_codec():
    assert {"decentlab_dl_pm", "decentlab_dl_sht35", "decentlab_dl_lp8p"} <= set(codecs.available())


def decode_error(key: str, frame: str) -> CodecError:
    with pytest.raises(CodecError) as error:
        codecs.get(key).decode(bytes.fromhex(frame))
    return error.value


def test_another_protocol_version_is_an_error_at_byte_0():
    error = decode_error("decentlab_dl_sht35", "03030e00020c60")
    assert error.offset == 0
    assert "version 3" in str(error)


def test_a_flag_for_a_group_the_product_lacks_is_an_error_at_the_flags():
    # A DL-PM frame (4 groups) read as DL-SHT35 (2 groups).
    error = decode_error("decentlab_dl_sht35", EXAMPLES[0][1])
    assert error.offset == 3
    assert "DL-SHT35" in str(error)


def test_bytes_left_after_the_selected_groups_are_an_error():
    error = decode_error("decentlab_dl_sht35", "02030e00020c60" + "0000")
    assert error.offset == 7


@pytest.mark.parametrize(
    ("key", "frame", "offset"),
    [
        ("decentlab_dl_pm", "021b50", 0),  # header cut
        ("decentlab_dl_pm", EXAMPLES[0][1][:-2], 31),  # pressure word cut
        ("decentlab_dl_pm", "021b50000f0c25", 7),  # particle group missing
        ("decentlab_dl_lp8p", "020578000f67bd618d1cedbd1081d9", 13),  # CO2 group cut
        ("decentlab_dl_sht35", "02030e000364a079", 5),  # temperature/humidity cut
    ],
)
def test_a_truncated_frame_is_an_error_at_the_group_that_was_cut(key, frame, offset):
    assert decode_error(key, frame).offset == offset
