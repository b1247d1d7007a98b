"""Decentlab: the example frames of Decentlab's decoders, and broken frames."""

import pytest

from sensorgrid.ingest import codecs
from sensorgrid.ingest.codecs import CodecError, decentlab, decentlab_products

# The example payloads of Decentlab's published decoders (github.com/decentlab/
# decentlab-decoders, DL-xxx/DL-xxx.py), which are also the datasheets' examples, as
# SensorGrid quantities. Values the formulas do not give exactly are given to 1e-4;
# VENDOR below holds the decoded values as Decentlab's names and units.
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
    # DL-IAM/DL-IAM.py: SHT3x temperature and humidity, pressure 96412 Pa, illuminance
    # from the two light channels, CO2 455 ppm, 11 PIR events, TVOC 273 ppb.
    (
        "decentlab_dl_iam",
        "020bbd007f0b926a515d48bc4e0262006981c7000093d4000b0111",
        {
            "battery": 2.962,
            "temperature": 27.6783,
            "humidity": 36.4385,
            "pressure": 964.12,
            "illuminance": 678.7651,
            "co2": 455.0,
            "motion_count": 11.0,
            "tvoc": 273.0,
        },
    ),
    (
        "decentlab_dl_iam",
        "020bbd006f0b926a515d48bc4e02620069000b0111",
        {
            "battery": 2.962,
            "temperature": 27.6783,
            "humidity": 36.4385,
            "pressure": 964.12,
            "illuminance": 678.7651,
            "motion_count": 11.0,
            "tvoc": 273.0,
        },
    ),
    ("decentlab_dl_iam", "020bbd00010b92", {"battery": 2.962}),
    # DL-PR26/DL-PR26.py with the decoder's default cell range 0 … 1 bar.
    (
        "decentlab_dl_pr26",
        "02016700033e8060170c7f",
        {"liquid_pressure": -0.01171875, "temperature_external": 25.671875, "battery": 3.199},
    ),
    ("decentlab_dl_pr26", "02016700020c7f", {"battery": 3.199}),
    # DL-5TM/DL-5TM.py: a probe in air (permittivity 1.1, Topp's VWC slightly below 0).
    (
        "decentlab_dl_5tm",
        "02023b0003003702710c60",
        {
            "dielectric_permittivity": 1.1,
            "volumetric_water_content": -0.0215,
            "soil_temperature": 22.5,
            "battery": 3.168,
        },
    ),
    ("decentlab_dl_5tm", "02023b00020c60", {"battery": 3.168}),
    # DL-TRS12/DL-TRS12.py.
    (
        "decentlab_dl_trs12",
        "0210d3000346be813d00000c80",
        {
            "dielectric_permittivity": 1.1831,
            "volumetric_water_content": 0.0069,
            "soil_temperature": 31.7,
            "electrical_conductivity": 0.0,
            "battery": 3.2,
        },
    ),
    ("decentlab_dl_trs12", "0210d300020c80", {"battery": 3.2}),
    # DL-MBX/DL-MBX.py: 1234 mm.
    ("decentlab_dl_mbx", "02012f000304d200010bb1", {"distance": 1.234, "battery": 2.993}),
    ("decentlab_dl_mbx", "02012f00020bb1", {"battery": 2.993}),
    # DL-LID/DL-LID.py: the average distance 4507 mm is stored.
    (
        "decentlab_dl_lid",
        "0211c90003119b117611bc119e118a119411a811a81194006401990abd",
        {"distance": 4.507, "battery": 2.749},
    ),
    ("decentlab_dl_lid", "0211c900020abd", {"battery": 2.749}),
    # DL-ATM41/DL-ATM41.py: pressures in kPa become hPa (95.96 kPa, vapour 1.8 kPa).
    (
        "decentlab_dl_atm41",
        "02035a0003800a8000800080008009812b8014810880b4a57c820c810980027fe88056800880040bf5",
        {
            "solar_radiation": 10.0,
            "rain": 0.0,
            "lightning_strike_count": 0.0,
            "lightning_distance": 0.0,
            "wind_speed": 0.09,
            "wind_direction": 29.9,
            "wind_gust": 0.2,
            "temperature": 26.4,
            "vapor_pressure": 18.0,
            "pressure": 959.6,
            "humidity": 52.4,
            "battery": 3.061,
        },
    ),
    ("decentlab_dl_atm41", "02035a00020bf5", {"battery": 3.061}),
]


@pytest.mark.parametrize(("key", "frame", "expected"), EXAMPLES)
def test_it_decodes_the_published_examples(key, frame, expected):
    values = codecs.get(key).decode(bytes.fromhex(frame))
    assert values == pytest.approx(expected, abs=1e-4, rel=0)
    assert all(type(value) is float for value in values.values())


def test_exact_scalings_are_exact():
    values = codecs.get("decentlab_dl_pm").decode(bytes.fromhex(EXAMPLES[0][1]))
    assert (values["battery"], values["pm2_5"], values["pressure"]) == (3.109, 3.9, 968.0)


PRODUCTS = {
    "decentlab_dl_iam",
    "decentlab_dl_pr26",
    "decentlab_dl_5tm",
    "decentlab_dl_trs12",
    "decentlab_dl_mbx",
    "decentlab_dl_lid",
    "decentlab_dl_atm41",
    "decentlab_dl_pm",
    "decentlab_dl_sht35",
    "decentlab_dl_lp8p",
}


def test_each_product_has_its_own_codec_and_examples():
    assert set(codecs.available()) >= PRODUCTS
    assert {product.key for product in decentlab_products.PRODUCTS} == PRODUCTS
    assert {key for key, _frame, _expected in EXAMPLES} == PRODUCTS


# Decentlab's decoders' output for their first example, by their names and units. The
# values are those that other published integrations (TagoIO's and akenza's decoder
# tests, ELEMENT IoT's parser tests "from docs") assert for the same payloads, rounded
# there to two decimals: half a hundredth is the tolerance. DL-TRS12's permittivity and
# water content are its decoder's formulas worked by hand (no second publication).
VENDOR = [
    (
        "DL-IAM",
        "020bbd007f0b926a515d48bc4e0262006981c7000093d4000b0111",
        {
            "Device ID": 3005,
            "Battery voltage": 2.96,
            "Air temperature": 27.68,
            "Air humidity": 36.44,
            "Barometric pressure": 96412,
            "Ambient light (visible + infrared)": 610,
            "Ambient light (infrared)": 105,
            "Illuminance": 678.77,
            "CO2 concentration": 455,
            "CO2 sensor status": 0,
            "Raw IR reading": 37844,
            "Activity counter": 11,
            "Total VOC": 273,
        },
    ),
    (
        "DL-PR26",
        "02016700033e8060170c7f",
        {
            "Device ID": 359,
            "Pressure": -0.01171875,
            "Temperature": 25.671875,
            "Battery voltage": 3.199,
        },
    ),
    (
        "DL-5TM",
        "02023b0003003702710c60",
        {
            "Device ID": 571,
            "Dielectric permittivity": 1.1,
            "Volumetric water content": -0.02,
            "Soil temperature": 22.5,
            "Battery voltage": 3.17,
        },
    ),
    (
        "DL-TRS12",
        "0210d3000346be813d00000c80",
        {
            "Device ID": 4307,
            "Dielectric permittivity": 1.1831,
            "Volumetric water content": 0.0069,
            "Soil temperature": 31.7,
            "Electrical conductivity": 0,
            "Battery voltage": 3.2,
        },
    ),
    (
        "DL-MBX",
        "02012f000304d200010bb1",
        {
            "Device ID": 303,
            "Distance": 1234,
            "Number of valid samples": 1,
            "Battery voltage": 2.993,
        },
    ),
    (
        "DL-LID",
        "0211c90003119b117611bc119e118a119411a811a81194006401990abd",
        {
            "Device ID": 4553,
            "Distance: average": 4507,
            "Distance: minimum": 4470,
            "Distance: maximum": 4540,
            "Distance: median": 4510,
            "Distance: 10th percentile": 4490,
            "Distance: 25th percentile": 4500,
            "Distance: 75th percentile": 4520,
            "Distance: 90th percentile": 4520,
            "Distance: most frequent value": 4500,
            "Number of samples": 100,
            "Total acquisition time": 399.4140625,
            "Battery voltage": 2.75,
        },
    ),
    (
        "DL-ATM41",
        "02035a0003800a8000800080008009812b8014810880b4a57c820c810980027fe88056800880040bf5",
        {
            "Device ID": 858,
            "Solar radiation": 10,
            "Precipitation": 0,
            "Lightning strike count": 0,
            "Lightning average distance": 0,
            "Wind speed": 0.09,
            "Wind direction": 29.9,
            "Maximum wind speed": 0.2,
            "Air temperature": 26.4,
            "Vapor pressure": 1.8,
            "Atmospheric pressure": 95.96,
            "Relative humidity": 52.4,
            "Sensor temperature (internal)": 26.5,
            "X orientation angle": 0.2,
            "Y orientation angle": -2.4,
            "Compass heading": 86,
            "North wind speed": 0.08,
            "East wind speed": 0.04,
            "Battery voltage": 3.06,
        },
    ),
    (
        "DL-PM",
        "021b50000f0c25002500270027002701f50107012c012d012d012d67bd618dbd10",
        {
            "Device ID": 6992,
            "Battery voltage": 3.109,
            "PM1.0 mass concentration": 3.7,
            "PM2.5 mass concentration": 3.9,
            "PM4 mass concentration": 3.9,
            "PM10 mass concentration": 3.9,
            "Typical particle size": 501,
            "PM0.5 number concentration": 26.3,
            "PM1.0 number concentration": 30.0,
            "PM2.5 number concentration": 30.1,
            "PM4 number concentration": 30.1,
            "PM10 number concentration": 30.1,
            "Air temperature": 24.36,
            "Air humidity": 41.63,
            "Barometric pressure": 96800,
        },
    ),
    (
        "DL-SHT35",
        "02030e000364a079b10c60",
        {
            "Device ID": 782,
            "Air temperature": 23.79,
            "Air humidity": 47.54,
            "Battery voltage": 3.168,
        },
    ),
    (
        "DL-LP8P",
        "020578000f67bd618d1cedbd1081d981f4895b0bd80bb50000959895390c25",
        {
            "Device ID": 1400,
            "Air temperature": 24.36,
            "Air humidity": 41.63,
            "Barometer temperature": 24.05,
            "Barometric pressure": 96800,
            "CO2 concentration": 473,
            "CO2 concentration LPF": 500,
            "CO2 sensor temperature": 23.95,
            "Capacitor voltage 1": 3.032,
            "Capacitor voltage 2": 2.997,
            "CO2 sensor status": 0,
            "Raw IR reading": 38296,
            "Raw IR reading LPF": 38201,
            "Battery voltage": 3.109,
        },
    ),
]


@pytest.mark.parametrize(("name", "frame", "published"), VENDOR)
def test_every_value_of_the_vendors_example_is_read(name, frame, published):
    [product] = [p for p in decentlab_products.PRODUCTS if p.name == name]
    values = decentlab.read_frame(bytes.fromhex(frame), product)
    assert values == pytest.approx({"Protocol version": 2, **published}, abs=0.005, rel=0)


def test_quantities_get_the_quantitys_unit():
    # Pa, kPa and mm become hPa and m; the rest is stored in Decentlab's unit.
    atm41 = codecs.get("decentlab_dl_atm41").decode(bytes.fromhex(VENDOR[6][1]))
    assert (atm41["pressure"], atm41["vapor_pressure"]) == pytest.approx((959.6, 18.0))
    assert codecs.get("decentlab_dl_mbx").decode(bytes.fromhex(VENDOR[4][1]))["distance"] == 1.234


def test_a_value_whose_unit_has_no_conversion_fails_when_the_product_is_built():
    value = decentlab.Value("Depth", "ft", lambda x: x[0], "distance")
    product = decentlab.Product("DL-XYZ", "test", (decentlab.Group("depth", 1, (value,)),))
    with pytest.raises(LookupError, match="'ft', quantity 'distance' in 'm'"):
        decentlab.register(product)
    assert "decentlab_dl_xyz" not in codecs.available()


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


@pytest.mark.parametrize(
    ("key", "frame", "reason"),
    [
        ("decentlab_dl_iam", "010bbd00010b92", "byte 0: Decentlab protocol version 1, expected 2"),
        ("decentlab_dl_mbx", "02012f00070bb1", "flags 0x0007 select sensor groups that DL-MBX"),
        ("decentlab_dl_atm41", "02035a0003800a", "weather (17 words) needs 34 byte(s)"),
        ("decentlab_dl_lid", "0211c900020abd0a", "1 byte(s) left after the sensor groups"),
        # A DL-5TM frame (2 groups, 2 + 1 words) read as DL-TRS12 (3 + 1 words): cut.
        ("decentlab_dl_trs12", "02023b0003003702710c60", "needs 2 byte(s), the frame has 0"),
        # A DL-MBX frame read as DL-PR26 (same groups and words): no refusal is possible,
        # which is why a node model names its product.
    ],
)
def test_refusals_say_why(key, frame, reason):
    assert reason in str(decode_error(key, frame))
