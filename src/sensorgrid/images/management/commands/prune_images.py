from django.core.management.base import BaseCommand

from sensorgrid.images import retention


class Command(BaseCommand):
    help = (
        "Delete pictures (rows and objects) older than their organization's raw retention; "
        "the worker does it daily (images.prune)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="only report what would go")

    def handle(self, *args, dry_run: bool, **options):
        for slug, count in sorted(retention.prune(dry_run=dry_run).items()):
            self.stdout.write(f"{slug}: {count} pictures {'expired' if dry_run else 'deleted'}")
