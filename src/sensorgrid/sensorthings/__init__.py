"""OGC SensorThings API 1.1 over SensorGrid's own tables (docs/sensorthings.md)."""
