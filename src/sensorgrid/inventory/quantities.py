"""The seeded registry of quantities: key, name, unit, plausible minimum and maximum.

The plausible range is what validation accepts from a sensor, not the physical range
of the quantity: it catches broken sensors and wrong units, not unusual weather.
"""

SEED: list[tuple[str, str, str, float | None, float | None]] = [
    ("co2", "Carbon dioxide", "ppm", 0, 40000),
    ("temperature", "Temperature", "°C", -60, 100),
    ("humidity", "Relative humidity", "%", 0, 100),
    ("pressure", "Air pressure", "hPa", 300, 1100),
    ("pm1", "Particulate matter PM1", "µg/m³", 0, 2000),
    ("pm2_5", "Particulate matter PM2.5", "µg/m³", 0, 2000),
    ("pm10", "Particulate matter PM10", "µg/m³", 0, 2000),
    ("noise", "Noise level", "dB(A)", 0, 160),
    ("illuminance", "Illuminance", "lx", 0, 200000),
    ("voc", "Volatile organic compounds index", "index", 0, 500),
    ("tvoc", "Total volatile organic compounds", "ppb", 0, 60000),
    ("no2", "Nitrogen dioxide", "µg/m³", 0, 2000),
    ("o3", "Ozone", "µg/m³", 0, 1000),
    ("speed", "Speed", "km/h", 0, 400),
    ("heading", "Heading", "°", 0, 360),
    ("latitude", "Latitude", "°", -90, 90),
    ("longitude", "Longitude", "°", -180, 180),
    ("altitude", "Altitude", "m", -500, 10000),
    ("battery", "Battery voltage", "V", 0, 60),
    ("battery_level", "Battery level", "%", 0, 100),
    ("rssi", "Received signal strength", "dBm", -200, 20),
    ("snr", "Signal-to-noise ratio", "dB", -40, 40),
    ("wind_speed", "Wind speed", "m/s", 0, 120),
    ("wind_direction", "Wind direction", "°", 0, 360),
    ("rain", "Precipitation", "mm", 0, 500),
    ("occupancy", "Occupancy", "persons", 0, 100000),
    ("motion", "Motion detected", "", 0, 1),
    ("door_open", "Door open", "", 0, 1),
    # Added with the binary payload codecs (migration 0006_more_quantities).
    ("temperature_external", "External probe temperature", "°C", -100, 300),
    ("hcho", "Formaldehyde", "mg/m³", 0, 50),
    ("water_leak", "Water leak detected", "", 0, 1),
    ("pulse_count", "Pulses counted since the previous message", "pulses", 0, None),
    ("acceleration_x", "Acceleration, X axis", "g", -50, 50),
    ("acceleration_y", "Acceleration, Y axis", "g", -50, 50),
    ("acceleration_z", "Acceleration, Z axis", "g", -50, 50),
    ("distance", "Distance", "m", 0, 10000),
    # Every Cayenne LPP type, and the PIR motion count (migration 0009_lpp_quantities).
    ("motion_count", "Motion events counted since the previous message", "events", 0, None),
    ("digital_input", "Digital input", "", 0, 255),
    ("digital_output", "Digital output", "", 0, 255),
    ("analog_input", "Analog input", "", -327.68, 327.67),
    ("analog_output", "Analog output", "", -327.68, 327.67),
    ("generic_sensor", "Generic sensor value", "", 0, None),
    ("voltage", "Voltage", "V", 0, 655.35),
    ("current", "Electric current", "A", 0, 65.535),
    ("frequency", "Frequency", "Hz", 0, None),
    ("percentage", "Percentage", "%", 0, 100),
    ("power", "Power", "W", 0, None),
    ("energy", "Energy", "kWh", 0, None),
    ("unix_time", "Unix time", "s", 0, None),
    ("angular_velocity_x", "Angular velocity, X axis", "°/s", -327.68, 327.67),
    ("angular_velocity_y", "Angular velocity, Y axis", "°/s", -327.68, 327.67),
    ("angular_velocity_z", "Angular velocity, Z axis", "°/s", -327.68, 327.67),
    ("colour_r", "Colour, red", "", 0, 255),
    ("colour_g", "Colour, green", "", 0, 255),
    ("colour_b", "Colour, blue", "", 0, 255),
    ("switch", "Switch state", "", 0, 1),
    # The Decentlab products' (migration 0011_decentlab_quantities, issue 18, item 4).
    ("soil_temperature", "Soil temperature", "°C", -50, 80),
    ("volumetric_water_content", "Volumetric water content of the soil", "m³/m³", -0.1, 1),
    ("dielectric_permittivity", "Relative dielectric permittivity of the soil", "", 0, 100),
    ("electrical_conductivity", "Electrical conductivity (bulk, soil)", "µS/cm", 0, 100000),
    ("liquid_pressure", "Pressure of a liquid or gas (a probe's)", "bar", -1, 1000),
    ("solar_radiation", "Solar radiation", "W/m²", -20, 2000),
    ("wind_gust", "Wind gust (maximum wind speed in the interval)", "m/s", 0, 120),
    ("vapor_pressure", "Vapour pressure", "hPa", 0, 200),
    ("lightning_strike_count", "Lightning strikes since the previous message", "strikes", 0, None),
    ("lightning_distance", "Average distance of lightning strikes", "km", 0, 100),
]


def seed(apps, schema_editor) -> None:
    """Data migration step: add the quantities of SEED that are missing.

    Quantities an administrator has edited are left alone. Migrations 0002 and 0006
    run it, the second for the keys added to SEED since the first.
    """
    Quantity = apps.get_model("inventory", "Quantity")
    for key, name, unit, low, high in SEED:
        Quantity.objects.get_or_create(
            key=key, defaults={"name": name, "unit": unit, "min_value": low, "max_value": high}
        )
