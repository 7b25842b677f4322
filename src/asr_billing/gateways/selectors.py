"""Reads of the gateways: a payment operator's state and one payment by its transaction
id. The payer is found by subscribers.selectors.payer_find."""

from __future__ import annotations

from decimal import Decimal

from asr_billing.finance.models import Account, Operation, PaymentOperator
from asr_billing.finance.selectors import recommended_payment


def operator_enabled(code: str) -> bool:
    return PaymentOperator.objects.filter(code=code, enabled=True).exists()


def payment_by_txn(*, operator: str, txn_id: str) -> Operation | None:
    """The payment with this (operator code, external id), its reversal (if any) loaded
    as ``reversed_by``; one query."""
    return (
        Operation.objects.select_related("reversed_by")
        .filter(pay_operator__code=operator, external_id=txn_id)
        .first()
    )


def payment_exists(*, operator: str, txn_id: str) -> bool:
    return Operation.objects.filter(pay_operator__code=operator, external_id=txn_id).exists()


def recommended_sum(subscriber_id: int, day) -> Decimal | None:
    """A payment (roubles) that covers a month of the subscriber's tariff and lifts a
    cut-off (finance.selectors.recommended_payment); None without an account. One query."""
    account = (
        Account.objects.select_related("subscriber__tariff").filter(pk=subscriber_id).first()
    )
    if account is None:
        return None
    return recommended_payment(
        balance=account.balance, credit_limit=account.credit_limit,
        promised=account.promised_amount, tariff=account.subscriber.tariff, day=day,
    )
