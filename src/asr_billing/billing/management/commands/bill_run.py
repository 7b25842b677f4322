"""``asr-billing bill run [--date YYYY-MM-DD]``: charge everything due up to a date."""

from __future__ import annotations

import os
import sys
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from asr_billing.billing.models import RunStatus
from asr_billing.billing.run import DEFAULT_BATCH, billing_run
from asr_billing.core.errors import ApplicationError, RunInProgress

RUN_IN_PROGRESS_EXIT = 3  # docs/billing.md


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(
            _("--date %(value)s is not a date YYYY-MM-DD") % {"value": repr(text)}
        ) from None


def show_progress() -> bool:
    """A progress bar on a terminal; nothing in CI, cron or a pipe."""
    return sys.stderr.isatty() and not os.environ.get("CI")


def status_word(status: str) -> str:
    """The run's state in the summary line, lower case, in app['language']."""
    words = {
        RunStatus.RUNNING: pgettext("charging run state", "running"),
        RunStatus.DONE: pgettext("charging run state", "done"),
        RunStatus.FAILED: pgettext("charging run state", "failed"),
        RunStatus.INTERRUPTED: pgettext("charging run state", "interrupted"),
    }
    return words.get(status, status)


class Command(BaseCommand):
    @property
    def help(self):
        return _("Charge everything due up to a date (default: today in app['time_zone']).")

    def add_arguments(self, parser):
        parser.add_argument("--date", help=_("YYYY-MM-DD; default today in app['time_zone']"))
        parser.add_argument(
            "--batch-size",
            type=int,
            default=DEFAULT_BATCH,
            help=_("subscribers per transaction (default %(count)s)") % {"count": DEFAULT_BATCH},
        )
        parser.add_argument(
            "--strategy",
            choices=("auto", "sql", "portable"),
            default="auto",
            help=_("auto: set-based SQL on PostgreSQL, portable elsewhere"),
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
            _("run #%(id)s %(first)s..%(date)s: %(status)s, %(subscribers)s subscribers, "
              "%(charges)s charges, %(amount)s charged, %(errors)s errors")
            % {"id": run.pk, "first": run.first_date, "date": run.date,
               "status": status_word(run.status), "subscribers": run.subscribers_seen,
               "charges": run.charges_made, "amount": run.amount, "errors": run.errors}
        )
        if run.errors:
            raise CommandError(
                ngettext(
                    "%(count)d subscriber could not be charged; see billing run #%(id)s in "
                    "the admin (the next run tries them again)",
                    "%(count)d subscribers could not be charged; see billing run #%(id)s in "
                    "the admin (the next run tries them again)",
                    run.errors,
                ) % {"count": run.errors, "id": run.pk}
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
            task = bar.add_task(_("charging (batches)"), total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            return billing_run(progress=progress, **kwargs)
