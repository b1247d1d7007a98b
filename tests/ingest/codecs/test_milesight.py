"""Milesight AM300: the published example frames, every channel, and broken frames."""

import pytest

from sensorgrid.ingest import codecs
from sensorgrid.ingest.codecs import CodecError
from sensorgrid.ingest.codecs.milesight import O3_UG_PER_PPM

EXAMPLES = [
    # Milesight-IoT/SensorDecoders, AM_Series/AM300_Series/README.md (AM319 sample):
    # temperature 23.8, humidity 62, pir trigger, light_level 2, co2 936, tvoc 37,
    # pressure 1008.6, hcho 0.04, pm2_5 32, pm10 48.
    (
        "milesight_am300",
        "0367EE00 04687C 050001 06CB02 077DA803 087D2500 09736627 0A7D0400 0B7D2000 0C7D3000",
        {
            "temperature": 23.8,
            "humidity": 62.0,
            "motion": 1.0,
            "co2": 936.0,
            "pressure": 1008.6,
            "hcho": 0.04,
            "pm2_5": 32.0,
            "pm10": 48.0,
        },
    ),
    # TTN device repository, vendor/milesight-iot/am307-codec.yaml, example 3:
    # co2 1255, tvoc 7, pressure 1004.7.
    ("milesight_am300", "077DE704 087D0700 09733F27", {"co2": 1255.0, "pressure": 1004.7}),
    # Milesight-IoT/SensorDecoders, AM_Series/AM103/README.md (same channels):
    # battery 100, temperature 28, humidity 54.5, co2 453.
    (
        "milesight_am300",
        "017564 03671801 04686D 077DC501",
        {"battery_level": 100.0, "temperature": 28.0, "humidity": 54.5, "co2": 453.0},
    ),
]


def decode(frame: str) -> dict[str, float]:
    return codecs.get("milesight_am300").decode(bytes.fromhex(frame))


@pytest.mark.parametrize(("key", "frame", "expected"), EXAMPLES)
def test_it_decodes_the_published_examples_exactly(key, frame, expected):
    values = decode(frame)
    assert values == expected
    assert all(type(value) is float for value in values.values())


def test_negative_temperatures_and_an_idle_pir():
    assert decode("0367 9CFF 050000") == {"temperature": -10.0, "motion": 0.0}


def test_ozone_ppm_becomes_micrograms_per_cubic_metre():
    values = decode("0D7D 0500")  # 0.05 ppm
    assert values == {"o3": pytest.approx(0.05 * O3_UG_PER_PPM)}
    assert values["o3"] == pytest.approx(99.77, abs=0.01)


def test_device_information_and_unmapped_channels_are_skipped():
    # Built from the channel table of Milesight's AM300 v2 decoder.
    frame = (
        "FF0BFF"  # power on
        " FF0101"  # IPSO version
        " FF16 6746D38802580000"  # serial number
        " FF09 0110"  # hardware version
        " FF0A 0114"  # firmware version
        " FF0F00"  # class A
        " FFFF 0100"  # TSL version
        " 06CB03"  # light level
        " 08E6 2C01"  # TVOC µg/m³
        " 0E0101"  # buzzer
        " 017564"
    )
    assert decode(frame) == {"battery_level": 100.0}


def test_an_unknown_channel_is_an_error_at_the_channel():
    # TTN's AM307 example 1 is an AM104 frame: its 05 6A activity channel is not AM300.
    with pytest.raises(CodecError) as error:
        decode("01755C 03673401 046865 056A4900")
    assert error.value.offset == 10
    assert "05 6A" in str(error.value)


def test_history_records_are_refused():
    with pytest.raises(CodecError) as error:
        decode("20CE 00000000")
    assert error.value.offset == 0


@pytest.mark.parametrize(
    ("frame", "offset"),
    [
        ("03", 0),  # channel id without its type
        ("0367EE", 2),  # temperature needs two bytes
        ("017564 0468", 5),  # humidity without its byte
        ("FF16 6746D388", 2),  # serial number needs eight bytes
    ],
)
def test_a_truncated_frame_is_an_error_at_the_field_that_was_cut(frame, offset):
    with pytest.raises(CodecError) as error:
        decode(frame)
    assert error.value.offset == offset
