from django.apps import AppConfig


class WorkerConfig(AppConfig):
    """`sensorgrid worker`: periodic and queued background work (Huey)."""

    name = "sensorgrid.worker"
    verbose_name = "Worker"

    def ready(self) -> None:
        from sensorgrid.observability import collectors
        from sensorgrid.worker.metrics import HeartbeatAgeCollector

        collectors.register(HeartbeatAgeCollector())
