from django.apps import AppConfig
from django.db.models.signals import post_migrate, pre_migrate


class DbrolesConfig(AppConfig):
    """Least-privilege PostgreSQL roles and the reporting views (docs/deployment.md).

    ``sensorgrid dbroles`` prints or applies the roles and grants; the ``reporting``
    schema's views are dropped before every ``migrate`` and made again after it, so they
    always match the tables and never stand in a migration's way."""

    name = "sensorgrid.dbroles"
    verbose_name = "Database roles"

    def ready(self) -> None:
        from sensorgrid.dbroles import reporting

        pre_migrate.connect(reporting.before_migrate, sender=self)
        post_migrate.connect(reporting.after_migrate, sender=self)
