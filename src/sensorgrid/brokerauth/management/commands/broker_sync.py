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

``--config-file <dynamic-security.json>`` changes the plugin's file instead of the live
broker, for a first load of many nodes (config_file.py says why): stop the broker, sync
the file, start the broker.
"""

import logging
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from sensorgrid.brokerauth import accounts
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
        parser.add_argument(
            "--config-file",
            default="",
            help="sync the plugin's dynamic-security.json of a STOPPED broker instead (a "
            "first load of thousands of nodes in seconds); start the broker afterwards",
        )

    def handle(self, *args, dry_run: bool, config_file: str, **options):
        from sensorgrid.brokerauth import apply

        try:
            if config_file:
                result = self._sync_file(Path(config_file), dry_run)
            else:
                # The diff is this command's output: the worker's "broker drift" warning
                # would print it a second time.
                drift_log = logging.getLogger(apply.__name__)
                level = drift_log.level
                drift_log.setLevel(logging.ERROR)
                try:
                    result = apply.reconcile(dry_run=dry_run)
                finally:
                    drift_log.setLevel(level)
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

    def _sync_file(self, path: Path, dry_run: bool) -> accounts.Diff:
        from sensorgrid.brokerauth import apply, config_file

        data = config_file.read(path)
        result = accounts.diff(
            accounts.desired(), config_file.state(data), apply.pending_passwords()
        )
        if result and not dry_run:
            config_file.write(path, config_file.apply(data, result.commands))
            self.stderr.write(
                f"{path} written: (re)start the broker to load it (a running broker "
                "overwrites the file at its next change)"
            )
        return result
