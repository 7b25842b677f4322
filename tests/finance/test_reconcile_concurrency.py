"""Two reconciliations posting the same missing payments at once, on a real PostgreSQL:
each payment is posted exactly once, the balances add up, and both reports agree."""

from __future__ import annotations

import pytest
from django.db.models import Count

from asr_billing.finance.models import Account, Operation, Reconciliation
from asr_billing.finance.reconcile import registry_reconcile
from asr_billing.finance.selectors import ledger_mismatches
from tests.conftest import requires_postgres
from tests.finance.reconcile_helpers import SOURCE, D, full_ledger, sber_registry
from tests.finance.test_concurrency import run_together

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]

RUNS = 4
# 30 payments the billing does not have, to three subscribers, in two registries with the
# rows in opposite orders: the runs take the account locks in different orders.
MISSING = [(f"M{i}", f"10000{1 + i % 3}", f"{10 + i}.00", "12:00:00") for i in range(30)]


def test_concurrent_post_missing_posts_each_payment_once(make_subscriber):
    ledger = full_ledger(make_subscriber, rows=[])
    registries = [sber_registry(MISSING), sber_registry(list(reversed(MISSING)))]
    balances = {pk: Account.objects.get(pk=pk).balance
                for pk in (ledger.a.pk, ledger.b.pk, ledger.c.pk)}

    reports = run_together(RUNS, lambda i: registry_reconcile(
        source=SOURCE, data=registries[i % 2], file_name=f"reg{i}.txt", actor=f"run{i}",
        post_missing=True,
    ).pk)

    assert all(isinstance(pk, int) for pk in reports), reports
    posted = Operation.objects.filter(pay_operator=ledger.operator, external_id__startswith="M")
    assert posted.count() == 30
    assert not posted.values("external_id").annotate(n=Count("id")).filter(n__gt=1).exists()
    total = sum(D(amount) for _txn, _acc, amount, _at in MISSING)
    assert total == D("735.00")
    assert sum(Account.objects.get(pk=pk).balance - before
               for pk, before in balances.items()) == total
    assert ledger_mismatches() == []
    stored = Reconciliation.objects.filter(pk__in=reports)
    assert sum(r.posted_count for r in stored) == 30
    assert sum(r.posted_amount for r in stored) == total
    for report in stored:
        # Every registry line agrees: matched (another run had posted it before this one
        # looked), posted by this run, or found posted by another one while posting.
        assert report.matched_count + report.missing_in_billing_count == 30
        assert report.lines.filter(line_no__isnull=False, resolved=True,
                                   operation__isnull=False).count() == 30
    # and a run afterwards finds them all
    after = registry_reconcile(source=SOURCE, data=registries[0], file_name="again.txt",
                               actor="check", post_missing=True)
    assert (after.matched_count, after.posted_count) == (30, 0)
