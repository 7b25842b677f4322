"""``asr-billing bill run [--date YYYY-MM-DD]``: charge everything due up to a date."""

from __future__ import annotations

import os
import sys
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from asr_billing.billing.run import DEFAULT_BATCH, billing_run
from asr_billing.core.errors import ApplicationError, RunInProgress

RUN_IN_PROGRESS_EXIT = 3  # docs/billing.md


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--date {text!r} is not a date YYYY-MM-DD") from None


def show_progress() -> bool:
    """A progress bar on a terminal; nothing in CI, cron or a pipe."""
    return sys.stderr.isatty() and not os.environ.get("CI")


class Command(BaseCommand):
    help = "Charge everything due up to a date (default: today in app['time_zone'])."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="YYYY-MM-DD; default today in app['time_zone']")
        parser.add_argument(
            "--batch-size",
            type=int,
            default=DEFAULT_BATCH,
            help=f"subscribers per transaction (default {DEFAULT_BATCH})",
        )
        parser.add_argument(
            "--strategy",
            choices=("auto", "sql", "portable"),
            default="auto",
            help="auto: set-based SQL on PostgreSQL, portable elsewhere",
        )

    def handle(self, *args, **options):
        day = _date(options["date"]) if options.get("date") else None
        kwargs = {
            "date": day,
            "batch_size": options["batch_size"],
            "strategy": options["strategy"],
            "actor": "cli",
        }
        try:
            run = self._with_bar(kwargs) if show_progress() else billing_run(**kwargs)
        except RunInProgress as exc:
            # Its own exit code: cron on two nodes can tell "the other node ran it".
            raise CommandError(exc.message, returncode=RUN_IN_PROGRESS_EXIT) from None
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(
            f"run #{run.pk} {run.first_date}..{run.date}: {run.status}, "
            f"{run.subscribers_seen} subscribers, {run.charges_made} charges, "
            f"{run.amount} charged, {run.errors} errors"
        )
        if run.errors:
            raise CommandError(
                f"{run.errors} subscriber(s) could not be charged; see billing run #{run.pk} "
                "in the admin (the next run tries them again)"
            )

    def _with_bar(self, kwargs):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        ) as bar:
            task = bar.add_task("charging (batches)", total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            return billing_run(progress=progress, **kwargs)
