"""``asr-billing check``: balance == sum(operations) for every account."""

from django.core.management.base import BaseCommand, CommandError

from asr_billing.finance.models import Account
from asr_billing.finance.selectors import ledger_mismatches


class Command(BaseCommand):
    help = "Prove that every account's balance equals the sum of its operations."

    def handle(self, *args, **options):
        accounts = Account.objects.count()
        mismatches = ledger_mismatches()
        for m in mismatches:
            self.stderr.write(
                f"MISMATCH subscriber {m.subscriber_id} ({m.contract_number}): "
                f"balance {m.balance}, operations sum {m.ledger_sum}, difference {m.difference}"
            )
        if mismatches:
            raise CommandError(f"{len(mismatches)} of {accounts} accounts do not match the ledger")
        self.stdout.write(
            f"OK: {accounts} accounts, every balance equals the sum of its operations"
        )
