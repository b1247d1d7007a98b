"""The ingest library: one pipeline for every entry point (HTTP, MQTT, LoRaWAN, replay).

``Envelope`` → decoder → ``Message`` objects → resolve devices → validate → batch
writer → after commit: hooks. See ``pipeline.ingest`` and docs/ingest.md.
"""
