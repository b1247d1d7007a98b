"""Dragino LHT65: the published example frame, every external sensor, broken frames."""

import pytest

from sensorgrid.ingest import codecs
from sensorgrid.ingest.codecs import CodecError

# TTN device repository, vendor/dragino/lht65-codec.yaml (Dragino's decoder): BatV
# 3.062, TempC_SHT 28.29, Hum_SHT 88.6, Ext_sensor "Temperature Sensor", TempC_DS 27.81.
EXAMPLES = [
    (
        "dragino_lht65",
        "CBF6 0B0D 0376 01 0ADD 7FFF",
        {"battery": 3.062, "temperature": 28.29, "humidity": 88.6, "temperature_external": 27.81},
    ),
]


def decode(frame: str) -> dict[str, float]:
    return codecs.get("dragino_lht65").decode(bytes.fromhex(frame))


@pytest.mark.parametrize(("key", "frame", "expected"), EXAMPLES)
def test_it_decodes_the_published_example_exactly(key, frame, expected):
    values = decode(frame)
    assert values == expected
    assert all(type(value) is float for value in values.values())


# The frames below are built from the layout of Dragino's decoder.


def test_negative_temperatures():
    assert decode("CBBD F5C6 022E 01 F54F 7FFF") == {
        "battery": 3.005,
        "temperature": -26.18,
        "humidity": 55.8,
        "temperature_external": -27.37,
    }


def test_without_an_external_sensor():
    assert decode("CBF6 0B0D 0376 00 7FFF 7FFF") == {
        "battery": 3.062,
        "temperature": 28.29,
        "humidity": 88.6,
    }


@pytest.mark.parametrize(
    "frame",
    [
        "CBF6 0B0D 0376 01 7FFF 7FFF",  # the probe reads 0x7FFF: no sensor
        "CBF6 0B0D 0376 81 0ADD 7FFF",  # the "not connected" bit
    ],
)
def test_a_missing_probe_gives_no_external_temperature(frame):
    assert "temperature_external" not in decode(frame)


def test_a_missing_built_in_sensor_gives_no_temperature():
    assert "temperature" not in decode("CBF6 7FFF 0376 00 7FFF 7FFF")


def test_an_illuminance_sensor():
    assert decode("CB03 0B2D 027C 05 0191 7FFF") == {
        "battery": 2.819,
        "temperature": 28.61,
        "humidity": 63.6,
        "illuminance": 401.0,
    }


@pytest.mark.parametrize("ext", ["04", "06", "07", "08"])
def test_interrupt_adc_and_counter_sensors_keep_the_built_in_values(ext):
    assert decode(f"CBF6 0B0D 0376 {ext} 0001 0203") == {
        "battery": 3.062,
        "temperature": 28.29,
        "humidity": 88.6,
    }


def test_a_probe_with_timestamp_sends_its_temperature_instead_of_the_battery():
    # Type 9: bytes 0-1 the probe, the battery status in the top bits of byte 4.
    assert decode("0ADD 0B0D C376 09 5F5B2A10") == {
        "temperature_external": 27.81,
        "temperature": 28.29,
        "humidity": 88.6,
    }


def test_a_probe_id_frame_has_only_the_battery():
    assert decode("CBF6 28FF 1234 0F 5678 9ABC") == {"battery": 3.062}


def test_a_datalog_poll_reply_is_refused():
    with pytest.raises(CodecError) as error:
        decode("CBF6 0B0D 0376 41 0ADD 7FFF")
    assert error.value.offset == 6


def test_an_unknown_external_sensor_type_is_an_error_at_its_byte():
    with pytest.raises(CodecError) as error:
        decode("CBF6 0B0D 0376 02 0ADD 7FFF")
    assert error.value.offset == 6
    assert "type 2" in str(error.value)


@pytest.mark.parametrize(
    ("frame", "offset"),
    [
        ("CBF6 0B0D 03", 0),  # the fixed part cut
        ("CBF6 0B0D 0376 01 0ADD 7F", 7),  # the external value cut
        ("CBF6 0B0D 0376 01 0ADD 7FFF 00", 11),  # a byte too many
    ],
)
def test_a_frame_of_the_wrong_size_is_an_error(frame, offset):
    with pytest.raises(CodecError) as error:
        decode(frame)
    assert error.value.offset == offset


# Dragino's decoder (vendor/dragino/lht65.js) reads port 2 only: "unknown FPort" else.
@pytest.mark.parametrize("port", [1, 3, 4, 5, 100])
def test_a_frame_on_another_port_than_2_is_refused(port):
    with pytest.raises(CodecError) as refused:
        codecs.get("dragino_lht65").decode(bytes.fromhex(EXAMPLES[0][1].replace(" ", "")), port)
    assert refused.value.detail == f"unknown fPort {port}: LHT65 data comes on port 2"


def test_a_frame_on_port_2_is_read():
    frame = bytes.fromhex(EXAMPLES[0][1].replace(" ", ""))
    assert codecs.get("dragino_lht65").decode(frame, 2) == EXAMPLES[0][2]
