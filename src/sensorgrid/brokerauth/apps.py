from django.apps import AppConfig


class BrokerAuthConfig(AppConfig):
    """Broker clients, roles and ACLs of nodes and service accounts (issue 20)."""

    name = "sensorgrid.brokerauth"
    label = "brokerauth"
    verbose_name = "Broker identity"

    def ready(self) -> None:
        from sensorgrid.brokerauth import receivers
        from sensorgrid.brokerauth.metrics import OutboxCollector
        from sensorgrid.observability import collectors

        receivers.connect()
        collectors.register(OutboxCollector())
