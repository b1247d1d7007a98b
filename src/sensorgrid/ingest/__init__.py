"""The ingest library: one pipeline for every entry point (HTTP, MQTT, LoRaWAN, replay).

``Envelope`` → ``pipeline.STEPS`` (``ingest/steps/``: decode → authorize → resolve →
codec → validate → store → after commit: ``events.Committed`` to the consumers in
settings ``AFTER_COMMIT_CONSUMERS``). See ``pipeline.ingest`` and docs/ingest.md.
"""
