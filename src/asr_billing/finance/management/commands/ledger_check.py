"""``asr-billing check``: balance == sum(operations) for every account."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from asr_billing.finance.models import Account
from asr_billing.finance.selectors import ledger_mismatches


class Command(BaseCommand):
    @property
    def help(self):
        return _("Prove that every account's balance equals the sum of its operations.")

    def handle(self, *args, **options):
        accounts = Account.objects.count()
        mismatches = ledger_mismatches()
        for m in mismatches:
            self.stderr.write(
                _("MISMATCH subscriber %(subscriber)s (%(contract)s): balance %(balance)s, "
                  "operations sum %(sum)s, difference %(difference)s")
                % {"subscriber": m.subscriber_id, "contract": m.contract_number,
                   "balance": m.balance, "sum": m.ledger_sum, "difference": m.difference}
            )
        if mismatches:
            raise CommandError(
                ngettext("%(bad)d of %(count)d account does not match the ledger",
                         "%(bad)d of %(count)d accounts do not match the ledger", accounts)
                % {"bad": len(mismatches), "count": accounts}
            )
        self.stdout.write(
            ngettext("OK: %(count)d account, its balance equals the sum of its operations",
                     "OK: %(count)d accounts, every balance equals the sum of its operations",
                     accounts)
            % {"count": accounts}
        )
