"""Broker identity: every device authenticates at the MQTT broker with its credential.

Nodes and service accounts become broker clients whose roles allow only their own
topics (the route table's templates with ``{device}`` filled in). Production brokers
are Mosquitto with its dynamic security plugin, kept in step through an outbox; the
demo's embedded broker checks the same rules against the database (docs/devices.md).
"""
