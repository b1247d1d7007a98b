"""``sensorgrid sta sync``: make and refresh the SensorThings mirrors of everything.

    sensorgrid sta sync            # make what is missing, rewrite every mirror's fields
    sensorgrid sta sync --check    # list what is missing; exit status 1 if anything is

The endpoint keeps the mirrors itself (model signals, ``mirror.ensure()`` per request);
this is for edits made around them (SQL, ``QuerySet.update``, a restored backup).
"""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sensorgrid.sensorthings import mirror


class Command(BaseCommand):
    help = (
        "sync: make the SensorThings rows (ObservedProperties, Sensors, Locations, "
        "HistoricalLocations, Things, Datastreams) of every quantity, node model, site, "
        "installation, node and series that lacks one, and rewrite the mirrors' fields from "
        "their sources; --check only lists what is missing (docs/sensorthings.md)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["sync"])
        parser.add_argument(
            "--check", action="store_true", help="list what is missing, change nothing"
        )

    def handle(self, *args, action: str, check: bool, **options) -> None:
        if check:
            todo = sorted(mirror.missing())
            if todo:
                raise CommandError("Missing or stale: " + ", ".join(todo) + ".")
            self.stdout.write(self.style.SUCCESS("Every mirror is in place."))
            return
        made = sorted(mirror.ensure())
        counts = mirror.refresh()
        rewritten = ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in counts.items())
        self.stdout.write(
            self.style.SUCCESS(
                f"Made: {', '.join(made) or 'nothing was missing'}. Rewritten: {rewritten}."
            )
        )
