from django.apps import AppConfig


class BrokerAuthConfig(AppConfig):
    """Broker clients, roles and ACLs of nodes and service accounts (issue 20)."""

    name = "sensorgrid.brokerauth"
    label = "brokerauth"
    verbose_name = "Broker identity"

    def ready(self) -> None:
        from django.core import checks

        from sensorgrid.brokerauth import accounts, receivers
        from sensorgrid.brokerauth.metrics import OutboxCollector
        from sensorgrid.observability import collectors

        receivers.connect()
        # an admin named node-… collides with the nodes' clients: refused at start
        checks.register(accounts.check_admin_username)
        collectors.register(OutboxCollector())
