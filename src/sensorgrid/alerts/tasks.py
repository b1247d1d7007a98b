"""Alert and outbox work on the worker (safe in several workers at once)."""

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from sensorgrid.alerts import deliveries, evaluate, forwarding

log = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*"), name="alerts.no_data")
def check_no_data() -> int:
    return len(evaluate.check_no_data())


@db_periodic_task(crontab(minute="*"), name="alerts.send_due")
def send_due() -> int:
    """Deliveries whose next attempt is due, and those whose worker died mid-send."""
    return deliveries.send_due()


@db_task(name="alerts.send_delivery")
def send_delivery(delivery_id: int) -> int:
    """Enqueued right after a delivery commits, so notifications leave within seconds."""
    return deliveries.send_due(only=delivery_id, limit=1)


@db_periodic_task(crontab(minute="*"), name="alerts.forward")
def forward() -> int:
    return forwarding.run_due()
