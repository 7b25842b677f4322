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


# --- Account turnover (1C exchange) ---


@dataclass(frozen=True)
class Turnover:
    """An account's totals: ``credit`` = sum of the rows that raised the balance,
    ``debit`` = sum of those that lowered it (a positive number), so
    ``balance == credit - debit``."""

    balance: Decimal
    debit: Decimal
    credit: Decimal


def account_turnover(subscriber_id: int) -> Turnover | None:
    """Balance and turnover of one account in one query; None when there is no account."""
    money_field = DecimalField(max_digits=14, decimal_places=2)
    positive = Sum("operations__amount", filter=Q(operations__amount__gt=0))
    negative = Sum("operations__amount", filter=Q(operations__amount__lt=0))
    row = (
        Account.objects.filter(pk=subscriber_id)
        .annotate(
            credit=Coalesce(positive, Value(ZERO), output_field=money_field),
            debit=Coalesce(negative, Value(ZERO), output_field=money_field),
        )
        .values_list("balance", "debit", "credit")
        .first()
    )
    if row is None:
        return None
    balance, debit, credit = (Decimal(v) for v in row)
    return Turnover(balance=balance, debit=abs(debit), credit=credit)
