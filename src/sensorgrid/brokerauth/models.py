"""The broker outbox and the record of reconciliations.

A ``BrokerChange`` is written in the transaction that changes a node or a route, so the
broker learns of a change if and only if it committed; the worker applies the rows in
id order (outbox.py, apply.py) and deletes each one once the broker has it.
"""

from django.db import models
from django.db.models import Q


class Action(models.TextChoices):
    UPSERT = "upsert", "create or update the node's client and role"
    PASSWORD = "password", "set the node's password and enable its client"
    DISABLE = "disable", "disable the node's client"
    #: its organization was unsuspended: the client kept its password while disabled
    ENABLE = "enable", "enable the node's client again (it kept its password)"
    DELETE = "delete", "delete the node's client and role"
    ROUTES = "routes", "bring every node's role in line with the route table"


class ChangeStatus(models.TextChoices):
    PENDING = "pending", "pending (waiting for its next attempt)"
    APPLYING = "applying", "applying (claimed by a worker)"
    FAILED = "failed", "failed (the broker refused it; the reconcile repairs the rest)"


class BrokerChange(models.Model):
    """One change the broker must learn, in the order it was made (the outbox).

    ``username`` is the broker client it concerns (``Node.broker_username``); empty for a
    change of every node (``routes``), which waits for all earlier changes and holds back
    all later ones. ``secret`` is the node's new password, encrypted (outbox.seal), for
    ``upsert`` and ``password``; the row, secret included, is deleted once applied.
    """

    username = models.CharField(max_length=150, blank=True, db_index=True)
    # The node it concerns (no foreign key: the row outlives the node it deletes).
    node_id = models.BigIntegerField(null=True, blank=True)
    action = models.CharField(max_length=10, choices=Action.choices)
    secret = models.TextField(blank=True, editable=False)
    status = models.CharField(
        max_length=10, choices=ChangeStatus.choices, default=ChangeStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_until = models.DateTimeField(null=True, blank=True)
    claim = models.UUIDField(null=True, blank=True, editable=False)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="brokerauth_change_due",
            ),
            models.Index(
                fields=["claimed_until"],
                condition=Q(status="applying"),
                name="brokerauth_change_claimed",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} {self.username or '(every node)'} ({self.status})"


class Reconciliation(models.Model):
    """One run of the reconcile (``sensorgrid broker sync`` or the worker's periodic run):
    how many broker clients differed from the inventory, or why it could not run."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    drift = models.PositiveIntegerField(null=True, blank=True)
    commands = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        get_latest_by = "started_at"

    def __str__(self) -> str:
        return f"reconcile {self.started_at:%Y-%m-%d %H:%M} drift={self.drift}"


class Lease(models.Model):
    """Who may talk to the broker now: the applier and the reconcile take turns (apply.py).

    A lease, not a lock: a worker killed while holding it blocks the others only until
    ``until``; the holder renews it as it goes.
    """

    name = models.CharField(max_length=50, primary_key=True)
    holder = models.UUIDField(null=True, blank=True)
    until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} held until {self.until}" if self.holder else f"{self.name} free"
