"""sensorgrid pipeline list | run <key> | history <key> | load <file>."""

from django.core.management.base import BaseCommand, CommandError

from sensorgrid.extras import MissingExtra, require
from sensorgrid.geo import definitions
from sensorgrid.geo.models import Pipeline, RunStatus, Trigger


class Command(BaseCommand):
    help = "Open-data pipelines: list them, run one now, show its runs, load definitions."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="list|run|history|load")
        sub.add_parser("list", help="every pipeline with its schedule and last run")
        run = sub.add_parser("run", help="run a pipeline now, with a progress bar")
        run.add_argument("key")
        run.add_argument("--no-progress", action="store_true", help="no progress bar")
        history = sub.add_parser("history", help="the latest runs of a pipeline")
        history.add_argument("key")
        history.add_argument("--limit", type=int, default=20)
        history.add_argument("--log", action="store_true", help="print each run's log")
        load = sub.add_parser("load", help="create or update layers and pipelines from a file")
        load.add_argument("file")
        load.add_argument("--organization", help="slug of the owning organization")

    def handle(self, *args, action: str, **options):
        # rich draws the tables and the progress bar: a core install without the geo
        # extra gets the install line, not a traceback.
        try:
            require("rich", "geo", "sensorgrid pipeline")
        except MissingExtra as exc:
            raise CommandError(str(exc)) from None
        getattr(self, f"do_{action}")(**options)

    def pipeline(self, key: str) -> Pipeline:
        pipeline = Pipeline.objects.select_related("layer").filter(key=key).first()
        if pipeline is None:
            known = ", ".join(Pipeline.objects.values_list("key", flat=True)[:20]) or "none"
            raise CommandError(f"No pipeline {key!r}. Known: {known}.")
        return pipeline

    def do_list(self, **options):
        from rich.console import Console
        from rich.table import Table

        table = Table("key", "layer", "source", "schedule", "next run", "last run")
        for pipeline in Pipeline.objects.select_related("layer").order_by("key"):
            last = pipeline.runs.order_by("-started_at", "-pk").first()
            table.add_row(
                pipeline.key,
                pipeline.layer.key,
                pipeline.source,
                (pipeline.schedule or "on demand") + ("" if pipeline.enabled else " (disabled)"),
                f"{pipeline.next_run_at:%Y-%m-%d %H:%M}" if pipeline.next_run_at else "-",
                f"{last.status} {last.started_at:%Y-%m-%d %H:%M}" if last else "never",
            )
        Console(file=self.stdout, width=140).print(table)

    def do_run(self, key: str, no_progress: bool = False, **options):
        from sensorgrid.geo.pipelines import runner

        pipeline = self.pipeline(key)
        if no_progress:
            run = runner.run(pipeline, Trigger.MANUAL)
        else:
            run = self._run_with_progress(pipeline)
        self.stdout.write(
            f"{run.status}: {run.created} created, {run.updated} updated, "
            f"{run.unchanged} unchanged, {run.deleted} deleted, {run.skipped} skipped "
            f"in {run.duration or 0:.1f} s"
        )
        if run.skipped:
            skipped = [line for line in run.log.splitlines() if line.startswith("skipped ")]
            for line in skipped[:10]:
                self.stdout.write(f"  {line}")
        warnings = [line for line in run.log.splitlines() if line.startswith("warning ")]
        for line in warnings[:10]:
            self.stdout.write(f"  {line}")
        if run.status == RunStatus.FAILED:
            raise CommandError(run.error)

    def _run_with_progress(self, pipeline):
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        from sensorgrid.geo.pipelines import runner

        bar = Progress(
            TextColumn("{task.description:>10}"),
            BarColumn(),
            # The counts are fields, not the bar's own: a finished empty step draws a full
            # bar (total 1) but reads 0/0.
            TextColumn("{task.fields[done]:>9,}/{task.fields[of]}"),
            TimeElapsedColumn(),
            console=Console(file=self.stderr),
            transient=False,
        )
        tasks: dict[str, int] = {}

        def finish(task_id) -> None:
            done = int(bar.tasks[task_id].fields["done"])
            bar.update(task_id, total=done or 1, completed=done or 1, of=done)

        def report(step: str, completed: int, total: int | None) -> None:
            if step not in tasks:
                for other in tasks.values():  # the previous step is done
                    finish(other)
                tasks[step] = bar.add_task(step, total=None, of="?", done=0)
            of = "?" if total is None else total
            bar.update(tasks[step], completed=completed, total=total, of=of, done=completed)

        with bar:
            run = runner.run(pipeline, Trigger.MANUAL, progress=report)
            for task_id in tasks.values():
                finish(task_id)
        return run

    def do_history(self, key: str, limit: int = 20, log: bool = False, **options):
        from rich.console import Console
        from rich.table import Table

        pipeline = self.pipeline(key)
        table = Table(
            "started", "trigger", "status", "created", "updated", "deleted", "skipped", "s", "error"
        )
        runs = list(pipeline.runs.order_by("-started_at", "-pk")[:limit])
        for run in runs:
            table.add_row(
                f"{run.started_at:%Y-%m-%d %H:%M:%S}",
                run.trigger,
                run.status,
                str(run.created),
                str(run.updated),
                str(run.deleted),
                str(run.skipped),
                f"{run.duration:.1f}" if run.duration is not None else "-",
                run.error[:80],
            )
        console = Console(file=self.stdout, width=160)
        console.print(table)
        if not runs:
            self.stdout.write(f"{pipeline.key} has not run yet.")
        if log:
            for run in runs:
                self.stdout.write(
                    f"\n--- {run.started_at:%Y-%m-%d %H:%M:%S} {run.status}\n{run.log}"
                )

    def do_load(self, file: str, organization: str | None = None, **options):
        try:
            changes = definitions.load(definitions.read(file), organization)
        except definitions.DefinitionError as exc:
            raise CommandError(str(exc)) from None
        for change in changes:
            verb = "created" if change.created else "updated"
            self.stdout.write(f"{change.kind} {change.key}: {verb}")
