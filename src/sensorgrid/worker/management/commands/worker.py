import logging

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django.utils.module_loading import autodiscover_modules
from huey.consumer_options import ConsumerConfig

from sensorgrid.worker import heartbeat, metrics


class Command(BaseCommand):
    help = (
        "Run the background worker: Huey consumer with the periodic tasks (device "
        "health, partitions, retention). Run as many as you like; tasks are idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--threads",
            type=int,
            default=settings.HUEY["consumer"]["workers"],
            help="worker threads (default: SENSORGRID_WORKER_THREADS or 2)",
        )
        parser.add_argument(
            "--no-periodic",
            action="store_true",
            help="only run queued tasks; leave periodic ones to other workers",
        )
        parser.add_argument(
            "--shutdown-timeout",
            type=float,
            default=30.0,
            help="seconds SIGTERM waits for running tasks before interrupting them",
        )

    def handle(self, *args, threads: int, no_periodic: bool, shutdown_timeout: float, **options):
        from huey.contrib.djhuey import HUEY

        autodiscover_modules("tasks")
        metrics.connect(HUEY)
        heartbeat.beat()  # ready at once, not only after the first periodic beat
        close_old_connections()
        config = ConsumerConfig(
            **{
                **settings.HUEY["consumer"],
                "workers": threads,
                "periodic": not no_periodic,
                "graceful_signal": "TERM",  # containers stop with SIGTERM: finish tasks
                "shutdown_timeout": shutdown_timeout,
            }
        )
        config.validate()
        if not settings.SENSORGRID_LOG_QUIET:  # quiet: no line per task (the demo)
            logging.getLogger("huey").setLevel(logging.INFO)
        self.stdout.write(
            f"worker {heartbeat.worker_name()}: {threads} threads, queue "
            f"{type(HUEY).__name__}({HUEY.name}), periodic {'off' if no_periodic else 'on'}"
        )
        HUEY.create_consumer(**config.values).run()
