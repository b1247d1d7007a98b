"""Broker outbox work on the worker.

The applier and the reconcile take turns (one Huey lock, shared by every worker of the
queue): a reconcile that read the inventory before a node was created must not find its
client, created meanwhile by the applier, and delete it as unknown. A run that finds the
lock taken ends at once; the run holding it loops until nothing is due.
"""

from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task

from sensorgrid.brokerauth import apply

LOCK = "brokerauth.broker"


@db_periodic_task(crontab(minute="*"), name="brokerauth.apply_due")
@HUEY.lock_task(LOCK)
def apply_due() -> int:
    """Changes whose next attempt is due, and those whose worker died mid-apply."""
    return apply.apply_due()


@db_task(name="brokerauth.apply_now")
@HUEY.lock_task(LOCK)
def apply_now() -> int:
    """Enqueued right after changes commit, so the broker has them within seconds."""
    return apply.apply_due()


@db_periodic_task(crontab(minute="*"), name="brokerauth.reconcile")
@HUEY.lock_task(LOCK)
def reconcile() -> int | None:
    """The whole inventory against the broker, every SENSORGRID_BROKER_RECONCILE_MINUTES."""
    return apply.reconcile_if_due()
