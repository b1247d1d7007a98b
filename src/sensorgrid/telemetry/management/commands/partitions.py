from django.core.management.base import BaseCommand

from sensorgrid.telemetry import partitions


class Command(BaseCommand):
    help = "Create the monthly sample partitions around today (PostgreSQL; no-op on SQLite)."

    def add_arguments(self, parser):
        parser.add_argument("--ahead", type=int, default=3, help="months after this one")
        parser.add_argument("--back", type=int, default=1, help="months before this one")

    def handle(self, *args, ahead: int, back: int, **options):
        if not partitions.is_partitioned():
            self.stdout.write("SQLite keeps samples in one table; nothing to do.")
            return
        created = partitions.ensure(back=back, ahead=ahead)
        have = [p.name for p in partitions.existing()]
        listed = ", ".join(created) or "none"
        span = f"{have[0]} … {have[-1]}" if have else "none"
        self.stdout.write(self.style.SUCCESS(f"Created: {listed}. Monthly partitions: {span}."))
