"""Cron expressions (five fields, UTC) of pipeline schedules.

Kept apart from ``schedule`` (which claims and runs due pipelines and so imports the
models and the runner): the models need only these two functions, and must not import
what imports them.
"""

from datetime import UTC, datetime

from sensorgrid.geo.pipelines.extras import require


def check(expression: str) -> None:
    """ValueError if ``expression`` is not a five-field cron expression."""
    croniter = require("croniter").croniter
    if len(expression.split()) != 5 or not croniter.is_valid(expression):
        raise ValueError(
            f"{expression!r} is not a cron expression: five fields, minute hour day month "
            'weekday, e.g. "17 3 * * *" (daily at 03:17 UTC).'
        )


def next_after(expression: str, after: datetime) -> datetime:
    """The first occurrence of ``expression`` strictly after ``after`` (UTC)."""
    start = after.astimezone(UTC)
    croniter = require("croniter").croniter
    return croniter(expression, start).get_next(datetime).astimezone(UTC)
