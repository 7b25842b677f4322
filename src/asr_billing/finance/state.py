"""The "negbal" state: is the subscriber cut off for lack of money?

negbal  <=>  balance + credit_limit + promised_amount < tariff.disconnect_threshold

It is recomputed in the same transaction as every payment, charge, reversal, credit or
tariff change, so a payment restores service at once, not at the next billing run.
Each transition leaves an audit row.
"""

from __future__ import annotations

from decimal import Decimal

from asr_billing.core.audit import Actor, audit_record
from asr_billing.core.money import ZERO


def is_negbal(
    *, balance: Decimal, credit_limit: Decimal, promised: Decimal, threshold: Decimal
) -> bool:
    return balance + credit_limit + promised < threshold


def subscriber_state_refresh(*, subscriber_id: int, actor: Actor, account=None) -> bool:
    """Recompute negbal for one subscriber; returns the new value. Call inside the
    transaction that changed the money, after locking the account row."""
    from asr_billing.finance.models import Account
    from asr_billing.subscribers.models import Subscriber

    if account is None:
        account = Account.objects.get(pk=subscriber_id)
    # The subscriber and tariff are read by a statement of their own, not taken from the
    # query that locked the account: when that query had to wait for the lock (a tariff
    # change held it), PostgreSQL returns the joined rows as they were before the wait.
    subscriber = Subscriber.objects.select_related("tariff").get(pk=subscriber_id)
    threshold = subscriber.tariff.disconnect_threshold if subscriber.tariff_id else ZERO
    negbal = is_negbal(
        balance=account.balance,
        credit_limit=account.credit_limit,
        promised=account.promised_amount,
        threshold=threshold,
    )
    if Account.subscriber.is_cached(account):
        account.subscriber.negbal = negbal  # the caller's copy follows
    if negbal != subscriber.negbal:
        Subscriber.objects.filter(pk=subscriber.pk).update(negbal=negbal)
        subscriber.negbal = negbal
        audit_record(
            actor=actor,
            action="negbal_on" if negbal else "negbal_off",
            obj=subscriber,
            subscriber=subscriber,
            old={"negbal": not negbal},
            new={"negbal": negbal, "balance": str(account.balance)},
        )
    return negbal
