"""Elsys: the published example frame, every field type, and broken frames."""

import pytest

from sensorgrid.ingest import codecs
from sensorgrid.ingest.codecs import CodecError

# TTN device repository, vendor/elsys/ers-co2-codec.yaml (the ERS CO2 example decoded
# by Elsys' elsys.js): temperature 22.6, humidity 41, light 39, motion 6, co2 776.
EXAMPLES = [
    (
        "elsys",
        "01 00 E2 02 29 04 00 27 05 06 06 03 08",
        {
            "temperature": 22.6,
            "humidity": 41.0,
            "illuminance": 39.0,
            "motion_count": 6.0,  # a count of PIR events, not forced into 0/1
            "co2": 776.0,
        },
    ),
]


def decode(frame: str) -> dict[str, float]:
    return codecs.get("elsys").decode(bytes.fromhex(frame))


@pytest.mark.parametrize(("key", "frame", "expected"), EXAMPLES)
def test_it_decodes_the_published_example_exactly(key, frame, expected):
    values = decode(frame)
    assert values == expected
    assert all(type(value) is float for value in values.values())


def test_it_decodes_every_mapped_type():
    # Built from the type table of elsys.js: one field per type.
    frame = (
        "01 FF 9C"  # temperature -10.0 °C
        " 03 3F C1 00"  # acceleration +1 g, -1 g, 0 g
        " 05 00"  # no motion
        " 07 0E 41"  # 3649 mV
        " 09 5F 76 06 0A 96 F2"  # GPS 42.3519, -87.9094 (little-endian)
        " 0A 00 2A"  # 42 pulses
        " 0C 00 FB"  # external temperature 25.1 °C
        " 0E 04 D2"  # 1234 mm
        " 12 FF"  # water leak
        " 14 00 0F 67 38"  # 1009.464 hPa
        " 15 50 2D"  # sound peak 80, average 45 dB
        " 16 00 07"  # 7 pulses on input 2
        " 1C 01 F4"  # TVOC 500 ppb
    )
    assert decode(frame) == {
        "temperature": -10.0,
        "acceleration_x": 1.0,
        "acceleration_y": -1.0,
        "acceleration_z": 0.0,
        "motion_count": 0.0,
        "battery": 3.649,
        "latitude": 42.3519,
        "longitude": -87.9094,
        "pulse_count": 42.0,
        "temperature_external": 25.1,
        "distance": 1.234,
        "water_leak": 1.0,
        "pressure": 1009.464,
        "noise": 45.0,
        "pulse_count_2": 7.0,
        "tvoc": 500.0,
    }


def test_acceleration_is_in_g():
    values = decode("03 20 E0 3F")
    assert values["acceleration_x"] == pytest.approx(32 / 63)
    assert values["acceleration_y"] == pytest.approx(-32 / 63)
    assert values["acceleration_z"] == 1.0


def test_the_ir_sensor_gives_the_external_temperature():
    assert decode("10 00 DC 01 5E") == {"temperature_external": 35.0}


def test_several_external_probes_on_input_2_are_numbered_in_frame_order():
    assert decode("19 00 C8 19 FF 38 19 00 05") == {
        "temperature_external_2": 20.0,
        "temperature_external_3": -20.0,
        "temperature_external_4": 0.5,
    }


def test_it_reads_past_every_skipped_type():
    skipped = (
        "08 0B B8"  # analog 1
        " 0B 00 00 01 00"  # absolute pulse count 1
        " 0D 01"  # digital
        " 0F 02"  # acceleration motion
        " 11 02"  # occupancy
        " 13 14" + " 05" * 64 + " 17 00 00 00 09"  # Grid-EYE; absolute pulse count 2
        " 18 01 00"  # analog 2
        " 1A 00"  # digital 2
        " 1B FF FF FF 00"  # analog µV
        " 3D 00 00 00 01"  # debug
    )
    assert decode(skipped + " 01 00 E2") == {"temperature": 22.6}


def test_a_settings_block_ends_the_measurements():
    assert decode("01 00 E2 3E 05 07 01 08 05 FF") == {"temperature": 22.6}


def test_an_unknown_type_is_an_error_at_the_type_byte():
    with pytest.raises(CodecError) as error:
        decode("01 00 E2 20 00")
    assert error.value.offset == 3
    assert "0x20" in str(error.value)


@pytest.mark.parametrize(
    ("frame", "offset"),
    [
        ("01 00", 1),  # temperature needs two bytes
        ("01 00 E2 02", 4),  # humidity without its byte
        ("09 5F 76 06 0A", 4),  # GPS cut inside the longitude
        ("13 14 05", 1),  # Grid-EYE needs 65 bytes
        ("14 00 0F 67", 1),  # pressure needs four bytes
    ],
)
def test_a_truncated_frame_is_an_error_at_the_field_that_was_cut(frame, offset):
    with pytest.raises(CodecError) as error:
        decode(frame)
    assert error.value.offset == offset
