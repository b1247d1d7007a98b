"""Per-minute ingest counters for the whole platform, for the status page.

One row per UTC minute, added to by an ingest hook (``ingest_rate``). Reading an
hour of history is then ≤ 60 primary-key rows, however many samples arrived, and
the counters survive restarts and add up across every ingest and web process.
"""

from django.db import models


class IngestMinute(models.Model):
    minute = models.DateTimeField(primary_key=True, help_text="Start of the UTC minute.")
    value_count = models.PositiveBigIntegerField(
        default=0, help_text="Values in committed batches (new and duplicate)."
    )
    dead_letter_count = models.PositiveBigIntegerField(
        default=0, help_text="Dead letters written by committed batches."
    )

    class Meta:
        ordering = ["minute"]

    def __str__(self) -> str:
        return (
            f"{self.minute:%Y-%m-%d %H:%M} {self.value_count} values, {self.dead_letter_count} dl"
        )
