"""Helpers for the demo tests."""

from __future__ import annotations

from collections import defaultdict

from asr_billing.core.money import ZERO
from asr_billing.finance.models import Account, Operation


def exact_mismatches() -> list[int]:
    """Accounts whose balance differs from the sum of their operations, or whose
    balance_after is not the running balance in id order, summed with Python Decimals
    (independent of how the database adds decimals)."""
    running = defaultdict(lambda: ZERO)
    bad = set()
    rows = Operation.objects.order_by("id").values_list("account_id", "amount", "balance_after")
    for account_id, amount, after in rows.iterator(chunk_size=5000):
        running[account_id] += amount
        if after != running[account_id]:
            bad.add(account_id)
    for account_id, balance in Account.objects.values_list("pk", "balance"):
        if balance != running.get(account_id, ZERO):
            bad.add(account_id)
    return sorted(bad)
