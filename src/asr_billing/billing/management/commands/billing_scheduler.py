"""``asr-billing scheduler``: the daily run at billing['run.time'] and the expiries every
billing['expire.minutes'] minutes, until SIGTERM or Ctrl-C."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from asr_billing.billing.scheduler import Scheduler


class Command(BaseCommand):
    @property
    def help(self):
        return _("Run the daily charging and the frequent expiries as a long-running process.")

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help=_("do what is due now and exit"))

    def handle(self, *args, **options):
        scheduler = Scheduler()
        if options["once"]:
            for item in scheduler.tick():
                self.stdout.write(item)
            return
        self.stdout.write(_("scheduler started; SIGTERM or Ctrl-C stops it"))
        scheduler.loop(echo=self.stdout.write)
        self.stdout.write(_("scheduler stopped"))
