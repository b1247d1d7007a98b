"""The worker's own periodic tasks. Each app keeps its tasks in its ``tasks.py``."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from sensorgrid.worker import heartbeat as heartbeats


@db_periodic_task(crontab(minute="*"), name="worker.heartbeat")
def heartbeat() -> None:
    heartbeats.beat()
