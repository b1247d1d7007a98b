from django.core.management.base import BaseCommand

from sensorgrid.telemetry import dead_letter_retention, retention


class Command(BaseCommand):
    help = (
        "Delete raw samples past each organization's retention (rollups are kept) and "
        "dead letters past SENSORGRID_DEAD_LETTER_RETENTION_DAYS."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="only report what would go")

    def handle(self, *args, dry_run: bool, **options):
        result = retention.prune(dry_run=dry_run)
        verb = "Would drop" if dry_run else "Dropped"
        self.stdout.write(f"{verb} partitions: {', '.join(result.dropped_partitions) or 'none'}")
        for slug, rows in sorted(result.deleted_rows.items()):
            self.stdout.write(f"{slug}: {rows} raw samples {'expired' if dry_run else 'deleted'}")
        letters = dead_letter_retention.prune(dry_run=dry_run)
        self.stdout.write(f"dead letters: {letters} {'expired' if dry_run else 'deleted'}")
