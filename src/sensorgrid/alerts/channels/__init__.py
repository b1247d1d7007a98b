"""Channel kinds: how a delivery leaves. Each module has ``send(channel, delivery)``.

A channel raises ``SendError`` on failure; ``retryable=False`` means retrying cannot
help (a bad address, a refused request), so the outbox stops at once.
"""

from sensorgrid.alerts.models import Channel, ChannelKind, Delivery


class SendError(Exception):
    def __init__(self, reason: str, retryable: bool = True) -> None:
        super().__init__(reason)
        self.retryable = retryable


def send(channel: Channel, delivery: Delivery) -> None:
    from sensorgrid.alerts.channels import email, mqtt, webhook

    senders = {ChannelKind.WEBHOOK: webhook, ChannelKind.EMAIL: email, ChannelKind.MQTT: mqtt}
    module = senders.get(channel.kind)
    if module is None:
        raise SendError(f"unknown channel kind {channel.kind!r}", retryable=False)
    module.send(channel, delivery)


def validate_config(kind: str, config) -> dict:
    """The normalised configuration of a channel kind, or ``ValueError`` naming the problem."""
    from sensorgrid.alerts.channels import email, mqtt, webhook

    if not isinstance(config, dict):
        raise ValueError("Must be a JSON object.")
    module = {ChannelKind.WEBHOOK: webhook, ChannelKind.EMAIL: email, ChannelKind.MQTT: mqtt}[kind]
    return module.validate_config(config)
