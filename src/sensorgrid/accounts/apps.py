from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """User API tokens and login throttling (docs/api.md, Authentication)."""

    name = "sensorgrid.accounts"
    verbose_name = "Accounts and API tokens"

    def ready(self) -> None:
        from sensorgrid.accounts import signals

        signals.connect()
