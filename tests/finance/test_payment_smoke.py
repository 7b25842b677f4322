from decimal import Decimal

import pytest

from asr_billing.core.errors import PaymentMismatch
from asr_billing.finance.models import Operation
from asr_billing.finance.services import payment_register


def test_payment_replay_and_mismatch(subscriber, operator):
    first = payment_register(
        subscriber=subscriber.contract_number,
        amount=Decimal("100.00"),
        operator=operator,
        external_id="1",
        actor="test",
    )
    again = payment_register(
        subscriber=subscriber.contract_number,
        amount=Decimal("100"),
        operator=operator,
        external_id="1",
        actor="test",
    )
    assert first.created and not again.created
    assert again.operation.pk == first.operation.pk
    with pytest.raises(PaymentMismatch):
        payment_register(
            subscriber=subscriber,
            amount=Decimal("100.01"),
            operator=operator,
            external_id="1",
            actor="test",
        )
    subscriber.account.refresh_from_db()
    assert subscriber.account.balance == Decimal("100.00")
    assert Operation.objects.count() == 1
