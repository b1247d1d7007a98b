"""The Decentlab products SensorGrid reads: sensor groups, their words and formulas.

Transcribed from Decentlab's published decoders (github.com/decentlab/decentlab-decoders,
``DL-xxx/DL-xxx.py``): group order (= flag bit), word count, each value's name, unit
and formula, where ``x`` are the group's words. The last column maps a value to a
SensorGrid quantity; ``None`` values are read and skipped (diagnostics, raw readings,
statistics of a value already stored). Units are written as ``inventory/quantities.py``
writes them (µg/m³ for Decentlab's µg⋅m⁻³); the protocol module converts Pa, kPa and
mm to the quantities' hPa and m. Importing this module registers one codec a product.
"""

from collections.abc import Callable

from sensorgrid.ingest.codecs.decentlab import Group, Product, Value, register

BATTERY = Group(
    "battery voltage", 1, (Value("Battery voltage", "V", lambda x: x[0] / 1000, "battery"),)
)

# Sensirion SHT21 (older products) and SHT3x conversions of the raw words.
SHT21 = Group(
    "air temperature and humidity",
    2,
    (
        Value("Air temperature", "°C", lambda x: 175.72 * x[0] / 65536 - 46.85, "temperature"),
        Value("Air humidity", "%", lambda x: 125 * x[1] / 65536 - 6, "humidity"),
    ),
)
SHT3X = Group(
    "air temperature and humidity",
    2,
    (
        Value("Air temperature", "°C", lambda x: 175 * x[0] / 65535 - 45, "temperature"),
        Value("Air humidity", "%", lambda x: 100 * x[1] / 65535, "humidity"),
    ),
)
BAROMETER = Group(
    "barometric pressure", 1, (Value("Barometric pressure", "Pa", lambda x: x[0] * 2, "pressure"),)
)

# DL-PR26 converts with its pressure cell's range, a per-device parameter; these are
# the published decoder's defaults (a 0 … 1 bar cell). Another range needs its own row.
PR26_P_MIN, PR26_P_MAX = 0.0, 1.0


def _illuminance(x: tuple[int, ...]) -> float:
    """DL-IAM: lux from the visible+infrared and infrared channels (Decentlab's fit)."""
    return max(max(1.0 * x[0] - 1.64 * x[1], 0.59 * x[0] - 0.86 * x[1]), 0) * 1.5504


def _trs12_permittivity(x: tuple[int, ...]) -> float:
    raw = x[0] / 10
    return (0.000000002887 * raw**3 - 0.0000208 * raw**2 + 0.05276 * raw - 43.39) ** 2


def _5tm_water_content(x: tuple[int, ...]) -> float:
    permittivity = x[0] / 50  # Topp's equation, as Decentlab's decoder applies it
    return 0.0000043 * permittivity**3 - 0.00055 * permittivity**2 + 0.0292 * permittivity - 0.053


def _offset(word: int, scale: float = 1) -> Callable[[tuple[int, ...]], float]:
    """ATM41 words carry value × scale + 32768."""
    return lambda x: (x[word] - 32768) / scale


PRODUCTS = (
    Product(
        "DL-IAM",
        "indoor ambiance: CO2, TVOC, motion, light, temperature, humidity, pressure",
        (
            BATTERY,
            SHT3X,
            BAROMETER,
            Group(
                "ambient light",
                2,
                (
                    Value("Ambient light (visible + infrared)", "", lambda x: x[0]),
                    Value("Ambient light (infrared)", "", lambda x: x[1]),
                    Value("Illuminance", "lx", _illuminance, "illuminance"),
                ),
            ),
            Group(
                "CO2",
                3,
                (
                    Value("CO2 concentration", "ppm", lambda x: x[0] - 32768, "co2"),
                    Value("CO2 sensor status", "", lambda x: x[1]),
                    Value("Raw IR reading", "", lambda x: x[2]),
                ),
            ),
            # PIR events in the interval: a count, not a 0/1 state (issue 18, item 6).
            Group(
                "activity",
                1,
                (Value("Activity counter", "events", lambda x: x[0], "motion_count"),),
            ),
            Group("total VOC", 1, (Value("Total VOC", "ppb", lambda x: x[0], "tvoc"),)),
        ),
    ),
    Product(
        "DL-PR26",
        f"pressure / liquid level and temperature ({PR26_P_MIN:g} … {PR26_P_MAX:g} bar cell)",
        (
            Group(
                "pressure and temperature",
                2,
                (
                    Value(
                        "Pressure",
                        "bar",
                        lambda x: (x[0] - 16384) / 32768 * (PR26_P_MAX - PR26_P_MIN) + PR26_P_MIN,
                        "liquid_pressure",
                    ),
                    Value(
                        "Temperature",
                        "°C",
                        lambda x: (x[1] - 384) * 0.003125 - 50,
                        "temperature_external",
                    ),
                ),
            ),
            BATTERY,
        ),
    ),
    Product(
        "DL-5TM",
        "soil moisture and temperature (METER 5TM)",
        (
            Group(
                "soil moisture and temperature",
                2,
                (
                    Value(
                        "Dielectric permittivity",
                        "",
                        lambda x: x[0] / 50,
                        "dielectric_permittivity",
                    ),
                    Value(
                        "Volumetric water content",
                        "m³/m³",
                        _5tm_water_content,
                        "volumetric_water_content",
                    ),
                    Value(
                        "Soil temperature", "°C", lambda x: (x[1] - 400) / 10, "soil_temperature"
                    ),
                ),
            ),
            BATTERY,
        ),
    ),
    Product(
        "DL-TRS12",
        "soil moisture, temperature and electrical conductivity (METER TEROS 12)",
        (
            Group(
                "soil moisture, temperature and conductivity",
                3,
                (
                    Value(
                        "Dielectric permittivity",
                        "",
                        _trs12_permittivity,
                        "dielectric_permittivity",
                    ),
                    Value(
                        "Volumetric water content",
                        "m³/m³",
                        lambda x: x[0] / 10 * 0.0003879 - 0.6956,
                        "volumetric_water_content",
                    ),
                    Value(
                        "Soil temperature", "°C", lambda x: (x[1] - 32768) / 10, "soil_temperature"
                    ),
                    Value(
                        "Electrical conductivity",
                        "µS/cm",
                        lambda x: x[2],
                        "electrical_conductivity",
                    ),
                ),
            ),
            BATTERY,
        ),
    ),
    Product(
        "DL-MBX",
        "ultrasonic distance / level (MaxBotix)",
        (
            Group(
                "distance",
                2,
                (
                    Value("Distance", "mm", lambda x: x[0], "distance"),
                    Value("Number of valid samples", "", lambda x: x[1]),
                ),
            ),
            BATTERY,
        ),
    ),
    Product(
        "DL-LID",
        "laser distance / level: the average is stored, the statistics are skipped",
        (
            Group(
                "distance statistics",
                11,
                (
                    Value("Distance: average", "mm", lambda x: x[0], "distance"),
                    Value("Distance: minimum", "mm", lambda x: x[1]),
                    Value("Distance: maximum", "mm", lambda x: x[2]),
                    Value("Distance: median", "mm", lambda x: x[3]),
                    Value("Distance: 10th percentile", "mm", lambda x: x[4]),
                    Value("Distance: 25th percentile", "mm", lambda x: x[5]),
                    Value("Distance: 75th percentile", "mm", lambda x: x[6]),
                    Value("Distance: 90th percentile", "mm", lambda x: x[7]),
                    Value("Distance: most frequent value", "mm", lambda x: x[8]),
                    Value("Number of samples", "", lambda x: x[9]),
                    Value("Total acquisition time", "ms", lambda x: x[10] / 1.024),
                ),
            ),
            BATTERY,
        ),
    ),
    Product(
        "DL-ATM41",
        "weather station (METER ATMOS 41, eleven parameters)",
        (
            Group(
                "weather",
                17,
                (
                    Value("Solar radiation", "W/m²", _offset(0), "solar_radiation"),
                    Value("Precipitation", "mm", _offset(1, 1000), "rain"),
                    Value(
                        "Lightning strike count", "strikes", _offset(2), "lightning_strike_count"
                    ),
                    Value("Lightning average distance", "km", _offset(3), "lightning_distance"),
                    Value("Wind speed", "m/s", _offset(4, 100), "wind_speed"),
                    Value("Wind direction", "°", _offset(5, 10), "wind_direction"),
                    Value("Maximum wind speed", "m/s", _offset(6, 100), "wind_gust"),
                    Value("Air temperature", "°C", _offset(7, 10), "temperature"),
                    Value("Vapor pressure", "kPa", _offset(8, 100), "vapor_pressure"),
                    Value("Atmospheric pressure", "kPa", _offset(9, 100), "pressure"),
                    Value("Relative humidity", "%", _offset(10, 10), "humidity"),
                    Value("Sensor temperature (internal)", "°C", _offset(11, 10)),
                    Value("X orientation angle", "°", _offset(12, 10)),
                    Value("Y orientation angle", "°", _offset(13, 10)),
                    Value("Compass heading", "°", _offset(14)),
                    Value("North wind speed", "m/s", _offset(15, 100)),
                    Value("East wind speed", "m/s", _offset(16, 100)),
                ),
            ),
            BATTERY,
        ),
    ),
    Product(
        "DL-PM",
        "particulate matter, temperature, humidity, pressure",
        (
            BATTERY,
            Group(
                "particulate matter",
                10,
                (
                    Value("PM1.0 mass concentration", "µg/m³", lambda x: x[0] / 10, "pm1"),
                    Value("PM2.5 mass concentration", "µg/m³", lambda x: x[1] / 10, "pm2_5"),
                    Value("PM4 mass concentration", "µg/m³", lambda x: x[2] / 10),
                    Value("PM10 mass concentration", "µg/m³", lambda x: x[3] / 10, "pm10"),
                    Value("Typical particle size", "nm", lambda x: x[4]),
                    Value("PM0.5 number concentration", "1/cm³", lambda x: x[5] / 10),
                    Value("PM1.0 number concentration", "1/cm³", lambda x: x[6] / 10),
                    Value("PM2.5 number concentration", "1/cm³", lambda x: x[7] / 10),
                    Value("PM4 number concentration", "1/cm³", lambda x: x[8] / 10),
                    Value("PM10 number concentration", "1/cm³", lambda x: x[9] / 10),
                ),
            ),
            SHT21,
            BAROMETER,
        ),
    ),
    Product("DL-SHT35", "air temperature and humidity", (SHT3X, BATTERY)),
    Product(
        "DL-LP8P",
        "CO2, temperature, humidity, pressure",
        (
            SHT21,
            Group(
                "barometer",
                2,
                (
                    Value("Barometer temperature", "°C", lambda x: (x[0] - 5000) / 100),
                    Value("Barometric pressure", "Pa", lambda x: x[1] * 2, "pressure"),
                ),
            ),
            Group(
                "CO2",
                8,
                (
                    Value("CO2 concentration", "ppm", lambda x: x[0] - 32768, "co2"),
                    Value("CO2 concentration LPF", "ppm", lambda x: x[1] - 32768),
                    Value("CO2 sensor temperature", "°C", lambda x: (x[2] - 32768) / 100),
                    Value("Capacitor voltage 1", "V", lambda x: x[3] / 1000),
                    Value("Capacitor voltage 2", "V", lambda x: x[4] / 1000),
                    Value("CO2 sensor status", "", lambda x: x[5]),
                    Value("Raw IR reading", "", lambda x: x[6]),
                    Value("Raw IR reading LPF", "", lambda x: x[7]),
                ),
            ),
            BATTERY,
        ),
    ),
)

CODECS = {product.key: register(product) for product in PRODUCTS}
