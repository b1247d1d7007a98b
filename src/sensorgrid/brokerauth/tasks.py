"""Broker outbox work on the worker.

Safe in several workers at once: the applier and the reconcile take turns through the
broker lease in the database (lease.py); a run that finds it taken ends at once, and
the run holding it goes on until nothing is due.
"""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from sensorgrid.brokerauth import apply


@db_periodic_task(crontab(minute="*"), name="brokerauth.apply_due")
def apply_due() -> int:
    """Changes whose next attempt is due, and those whose worker died mid-apply."""
    return apply.apply_due()


@db_task(name="brokerauth.apply_now")
def apply_now() -> int:
    """Enqueued right after changes commit, so the broker has them within seconds."""
    return apply.apply_due()


@db_periodic_task(crontab(minute="*"), name="brokerauth.reconcile")
def reconcile() -> int | None:
    """The whole inventory against the broker, every SENSORGRID_BROKER_RECONCILE_MINUTES."""
    return apply.reconcile_if_due()
