"""End promised payments and voluntary blocks whose time is up and apply the tariff
changes scheduled for today: what the scheduler does every few minutes, for cron."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from asr_billing.billing.services import billing_housekeeping


class Command(BaseCommand):
    @property
    def help(self):
        return _("Expire promised payments, move voluntary block flags, apply due tariff "
                 "changes, delete stale failed-login counters.")

    def handle(self, *args, **options):
        counts = billing_housekeeping(actor="cli")
        # key: count, the keys as they are (cron logs and scripts read them)
        self.stdout.write(", ".join(f"{key}: {value}" for key, value in counts.items()))
