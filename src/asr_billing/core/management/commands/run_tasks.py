"""``asr-billing manage run_tasks``: what the scheduler does on every tick besides the
charging and the expiries, once (cron's way): ask for a Disconnect of each RADIUS session
whose access no longer matches its subscriber (network.coa), then run the background
tasks that are due."""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from asr_billing.core.tasks import tasks_run_due


class Command(BaseCommand):
    @property
    def help(self):
        return _("Disconnect sessions whose access changed and run the due background tasks.")

    def handle(self, *args, **options):
        from asr_billing.network.coa import sessions_reconcile_access

        asked = sessions_reconcile_access()
        counts = tasks_run_due()
        # key=count, the keys as they are: a line for cron's log and the scripts reading it
        self.stdout.write(f"disconnects_asked={asked} "
                          + " ".join(f"{k}={v}" for k, v in counts.items()))
