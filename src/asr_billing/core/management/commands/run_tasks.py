"""``asr-billing manage run_tasks``: run the background tasks that are due, once (cron's
way; ``asr-billing scheduler`` runs them on every tick)."""

from django.core.management.base import BaseCommand

from asr_billing.core.tasks import tasks_run_due


class Command(BaseCommand):
    help = "Run the background tasks that are due (CoA / Disconnect to NAS devices)."

    def handle(self, *args, **options):
        import asr_billing.network.coa  # noqa: F401 - registers its handlers

        counts = tasks_run_due()
        self.stdout.write(" ".join(f"{k}={v}" for k, v in counts.items()))
