"""Cayenne LPP: the myDevices reference examples, every type, and broken frames."""

import pytest

from sensorgrid.ingest import codecs
from sensorgrid.ingest.codecs import CodecError

# The three example frames of the myDevices Cayenne LPP documentation ("LoRaWAN →
# Cayenne Low Power Payload"), also used by the TTN CayenneLPP docs and pycayennelpp.
EXAMPLES = [
    ("cayenne_lpp", "03 67 01 10 05 67 00 FF", {"temperature": 27.2, "temperature_5": 25.5}),
    (
        "cayenne_lpp",
        "01 67 FF D7 06 71 04 D2 FB 2E 00 00",
        {
            "temperature": -4.1,
            "acceleration_x": 1.234,
            "acceleration_y": -1.234,
            "acceleration_z": 0.0,
        },
    ),
    (
        "cayenne_lpp",
        "01 88 06 76 5F F2 96 0A 00 03 E8",
        {"latitude": 42.3519, "longitude": -87.9094, "altitude": 10.0},
    ),
]


def decode(frame: str) -> dict[str, float]:
    return codecs.get("cayenne_lpp").decode(bytes.fromhex(frame))


@pytest.mark.parametrize(("key", "frame", "expected"), EXAMPLES)
def test_it_decodes_the_reference_examples_exactly(key, frame, expected):
    values = decode(frame)
    assert values == expected
    assert all(type(value) is float for value in values.values())


def test_it_decodes_the_other_mapped_types():
    # Built from the type table (ElectronicCats/TTN CayenneLPP.h): one entry per type.
    frame = (
        "02 65 01 F4"  # illuminance 500 lx
        " 02 66 01"  # presence
        " 02 68 61"  # humidity 48.5 %
        " 02 73 27 6F"  # barometer 1009.5 hPa
        " 02 79 FF 9C"  # altitude -100 m
        " 02 7D 01 9F"  # concentration 415 ppm
        " 02 82 00 00 04 D2"  # distance 1.234 m
        " 02 84 01 0E"  # direction 270°
    )
    assert decode(frame) == {
        "illuminance": 500.0,
        "motion": 1.0,
        "humidity": 48.5,
        "pressure": 1009.5,
        "altitude": -100.0,
        "co2": 415.0,
        "distance": 1.234,
        "heading": 270.0,
    }


def test_any_non_zero_presence_is_motion():
    assert decode("01 66 05 02 66 00") == {"motion": 1.0, "motion_2": 0.0}


def test_every_type_of_the_reference_list_is_a_quantity():
    # One value of every LPP type on channel 1 (issue 18, item 2); sizes and resolutions
    # as in the myDevices reference and ElectronicCats' CayenneLPP library.
    frame = (
        "01 00 01"  # digital input 1
        " 01 01 00"  # digital output 0
        " 01 02 FF 38"  # analog input -2.00
        " 01 03 00 64"  # analog output 1.00
        " 01 64 00 00 01 2C"  # generic sensor 300
        " 01 74 01 4A"  # voltage 3.30 V
        " 01 75 00 0F"  # current 0.015 A
        " 01 76 00 00 03 E8"  # frequency 1000 Hz
        " 01 78 64"  # percentage 100 %
        " 01 80 00 FA"  # power 250 W
        " 01 83 00 00 04 D2"  # energy 1.234 kWh
        " 01 85 65 43 21 00"  # unix time 1698898176
        " 01 86 00 01 FF FE 00 03"  # gyrometer 0.01, -0.02, 0.03 °/s
        " 01 87 FF 80 00"  # colour 255, 128, 0
        " 01 8E 01"  # switch on
        " 01 67 00 FA"  # temperature 25.0
    )
    assert decode(frame) == {
        "digital_input": 1.0,
        "digital_output": 0.0,
        "analog_input": -2.0,
        "analog_output": 1.0,
        "generic_sensor": 300.0,
        "voltage": 3.3,
        "current": 0.015,
        "frequency": 1000.0,
        "percentage": 100.0,
        "power": 250.0,
        "energy": 1.234,
        "unix_time": 1698898176.0,
        "angular_velocity_x": 0.01,
        "angular_velocity_y": -0.02,
        "angular_velocity_z": 0.03,
        "colour_r": 255.0,
        "colour_g": 128.0,
        "colour_b": 0.0,
        "switch": 1.0,
        "temperature": 25.0,
    }


def test_digital_and_analog_channels_are_indexed_like_the_other_types():
    # The frame that used to store nothing: two digital inputs and an analog input.
    assert decode("03 00 01 05 00 00 02 02 01 2C") == {
        "digital_input": 1.0,
        "digital_input_5": 0.0,
        "analog_input": 3.0,
    }


def test_the_lowest_channel_keeps_the_plain_key():
    assert decode("07 67 00 0A 03 67 00 14 05 67 00 1E") == {
        "temperature": 2.0,
        "temperature_5": 3.0,
        "temperature_7": 1.0,
    }


def test_gps_altitude_and_an_altitude_channel_are_separate_channels():
    frame = "01 88 06 76 5F F2 96 0A 00 03 E8 02 79 00 0C"
    assert decode(frame)["altitude"] == 10.0
    assert decode(frame)["altitude_2"] == 12.0


def test_a_repeated_channel_keeps_the_later_value():
    assert decode("01 67 00 0A 01 67 00 14") == {"temperature": 2.0}


def test_an_empty_frame_has_no_values():
    assert decode("") == {}


def test_an_unknown_type_is_an_error_at_the_type_byte():
    with pytest.raises(CodecError) as error:
        decode("01 67 00 FF 02 05 00")
    assert error.value.offset == 5
    assert "unknown Cayenne LPP type 5" in str(error.value)


@pytest.mark.parametrize(
    ("frame", "offset"),
    [
        ("01", 0),  # a channel without a type
        ("01 67 00", 2),  # temperature needs two bytes
        ("03 67 01 10 05 67", 6),  # second entry cut after the type
        ("01 88 06 76 5F F2", 5),  # GPS cut inside the longitude
        ("06 71 04 D2 FB 2E 00", 6),  # accelerometer cut inside z
        ("01 00", 2),  # a skipped type still needs its byte
    ],
)
def test_a_truncated_frame_is_an_error_at_the_field_that_was_cut(frame, offset):
    with pytest.raises(CodecError) as error:
        decode(frame)
    assert error.value.offset == offset
