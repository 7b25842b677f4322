"""Reads about money."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import DecimalField, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from asr_billing.core.money import ZERO
from asr_billing.finance.models import Account, Operation


@dataclass(frozen=True)
class BalanceMismatch:
    subscriber_id: int
    contract_number: str
    balance: Decimal
    ledger_sum: Decimal

    @property
    def difference(self) -> Decimal:
        return self.balance - self.ledger_sum


def ledger_mismatches() -> list[BalanceMismatch]:
    """Accounts whose cached balance differs from the sum of their operations (one query)."""
    sums = (
        Operation.objects.filter(account=OuterRef("pk"))
        .order_by()
        .values("account")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    money_field = DecimalField(max_digits=14, decimal_places=2)
    rows = (
        Account.objects.annotate(
            ledger_sum=Coalesce(Subquery(sums, output_field=money_field), Value(ZERO),
                                output_field=money_field)
        )
        .filter(~Q(balance=F("ledger_sum")))
        .values_list("pk", "subscriber__contract_number", "balance", "ledger_sum")
        .order_by("pk")
        .iterator(chunk_size=5000)
    )
    return [
        BalanceMismatch(pk, contract, Decimal(balance), Decimal(total))
        for pk, contract, balance, total in rows
    ]
