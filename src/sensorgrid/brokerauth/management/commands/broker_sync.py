"""``sensorgrid broker sync [--dry-run]``: make the broker's clients and roles match the
inventory (Mosquitto's dynamic security plugin; docs/deployment.md, "Broker
authentication (dynamic security)").

It prints the diff, one line per client or role to create, change or delete, then
applies it (not with ``--dry-run``); a broker in step prints ``in sync``, so a second run
after the first always does. Only clients and roles SensorGrid owns (``node-…``,
``sg-…`` and the service accounts it names) are touched, never the admin.

A node's password cannot be read back from the broker and SensorGrid keeps only a
digest: a node missing at the broker is created with its password only while one is
pending in the outbox, otherwise it is created disabled and listed as "rotate the
credential to connect". ``sensorgrid broker sync`` is ``broker_sync`` (the ``broker``
command, which runs the demo's embedded broker, hands ``sync`` over).
"""

from django.core.management.base import BaseCommand, CommandError

from sensorgrid.brokerauth.dynsec import DynsecError
from sensorgrid.env import ConfigurationError

#: node names listed in the "rotate the credential" line at most
SHOWN = 20


class Command(BaseCommand):
    help = (
        "Make the MQTT broker's dynamic security clients and roles match the inventory: "
        "print the diff, then apply it (not with --dry-run)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="print the diff, change nothing")

    def handle(self, *args, dry_run: bool, **options):
        from sensorgrid.brokerauth import apply

        try:
            result = apply.reconcile(dry_run=dry_run)
        except (DynsecError, ConfigurationError) as exc:
            raise CommandError(str(exc)) from None
        for change in result.changes:
            self.stdout.write(str(change))
        if result:
            verb = "to apply (dry run: nothing changed)" if dry_run else "applied"
            self.stdout.write(
                f"{len(result.changes)} change(s), {len(result.commands)} command(s) {verb}"
            )
        else:
            self.stdout.write("in sync")
        if result.waiting:
            shown = ", ".join(result.waiting[:SHOWN])
            more = f" and {len(result.waiting) - SHOWN} more" if len(result.waiting) > SHOWN else ""
            self.stdout.write(
                f"{len(result.waiting)} node(s) stay disabled at the broker, no password known "
                f"({shown}{more}): rotate the credential to connect"
            )
