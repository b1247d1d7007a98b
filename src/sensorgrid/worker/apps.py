from django.apps import AppConfig


class WorkerConfig(AppConfig):
    """`sensorgrid worker`: periodic and queued background work (Huey)."""

    name = "sensorgrid.worker"
    verbose_name = "Worker"
