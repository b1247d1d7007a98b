"""The background worker: Huey consumer, periodic tasks, heartbeat."""
