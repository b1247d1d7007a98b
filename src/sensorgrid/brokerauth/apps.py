from django.apps import AppConfig


class BrokerAuthConfig(AppConfig):
    """Broker clients, roles and ACLs of nodes and service accounts (issue 20)."""

    name = "sensorgrid.brokerauth"
    label = "brokerauth"
    verbose_name = "Broker identity"
