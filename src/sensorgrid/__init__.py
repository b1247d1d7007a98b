"""SensorGrid: one platform for sensor networks."""

__version__ = "0.1.0"
