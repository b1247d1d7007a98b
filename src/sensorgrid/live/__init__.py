"""Live values: the WebSocket endpoint /ws/live/ and what publishes to it."""
