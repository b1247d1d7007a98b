from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from sensorgrid.ingest.replay import replay
from sensorgrid.telemetry.models import DeadLetter, Reason, Source


class Command(BaseCommand):
    help = "Replay unresolved dead letters through the ingest pipeline (after fixing the cause)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--reason", choices=Reason.values, help="e.g. unknown-device")
        parser.add_argument("--source", choices=Source.values)
        parser.add_argument("--since", help="ISO 8601 time; letters received at or after it")
        parser.add_argument("--device", help="only letters of this device id")
        parser.add_argument("--limit", type=int, default=10_000)
        parser.add_argument(
            "--dry-run", action="store_true", help="only count what would be replayed"
        )

    def handle(
        self,
        *args: Any,
        reason: str | None,
        source: str | None,
        since: str | None,
        device: str | None,
        limit: int,
        dry_run: bool,
        **options: Any,
    ) -> None:
        letters = DeadLetter.objects.filter(resolved_at__isnull=True).order_by("received_at", "pk")
        if reason:
            letters = letters.filter(reason=reason)
        if source:
            letters = letters.filter(source=source)
        if device:
            letters = letters.filter(device_id=device)
        if since:
            moment = parse_datetime(since)
            if moment is None:
                raise CommandError(f"--since {since!r} is not an ISO 8601 date and time")
            letters = letters.filter(received_at__gte=moment)
        chosen = list(letters[:limit])
        if dry_run:
            self.stdout.write(f"{len(chosen)} dead letters would be replayed.")
            return
        stored = sum(replay(letter).stored for letter in chosen)
        self.stdout.write(
            self.style.SUCCESS(
                f"Replayed {len(chosen)}: {stored} stored, {len(chosen) - stored} still refused."
            )
        )
