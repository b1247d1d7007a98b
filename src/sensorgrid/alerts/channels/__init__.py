"""Channel kinds: how a delivery leaves. Each module has ``send(channel, delivery)``.

A channel raises ``SendError`` on failure; ``retryable=False`` means retrying cannot
help (a bad address, a refused request), so the outbox stops at once. Its reason is
what users read in ``last_error``: a fixed phrase (``sensorgrid.outbound.reasons``),
never the receiver's answer.
"""

from types import ModuleType

from sensorgrid.alerts.models import Channel, ChannelKind, Delivery


class SendError(Exception):
    def __init__(self, reason: str, retryable: bool = True) -> None:
        super().__init__(reason)
        self.retryable = retryable


def _module(kind: str) -> ModuleType | None:
    from sensorgrid.alerts.channels import email, mqtt, webhook

    modules: dict[str, ModuleType] = {
        ChannelKind.WEBHOOK: webhook,
        ChannelKind.EMAIL: email,
        ChannelKind.MQTT: mqtt,
    }
    return modules.get(kind)


def send(channel: Channel, delivery: Delivery) -> None:
    module = _module(channel.kind)
    if module is None:
        raise SendError(f"unknown channel kind {channel.kind!r}", retryable=False)
    module.send(channel, delivery)


def validate_config(kind: str, config, previous: dict | None = None) -> dict:
    """The normalised configuration of a channel kind, or ``ValueError`` naming the problem.

    ``previous`` is the stored configuration on an update: write-only secrets that the
    update leaves out are kept from it.
    """
    if not isinstance(config, dict):
        raise ValueError("Must be a JSON object.")
    module = _module(kind)
    if module is None:
        raise ValueError(f"unknown channel kind {kind!r}")
    if hasattr(module, "public_config"):
        return module.validate_config(config, previous)
    return module.validate_config(config)


def public_config(kind: str, config: dict) -> dict:
    """The configuration as the API shows it: secrets replaced by ``…_set`` flags."""
    module = _module(kind)
    if module is not None and hasattr(module, "public_config") and isinstance(config, dict):
        return module.public_config(config)
    return config
