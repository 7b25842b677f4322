"""A new disconnect threshold and a payment that overlap, on a real PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import pytest

from asr_billing.finance.models import Account
from asr_billing.subscribers.models import Subscriber
from asr_billing.tariffs.services import tariff_update
from tests.conftest import ACTOR, requires_postgres
from tests.finance.test_concurrency import pay_during

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


def test_a_payment_during_a_threshold_change_is_judged_by_the_new_threshold(
    make_subscriber, tariff
):
    """balance 0, threshold 0: not cut off. Raising the threshold to 100 cuts the subscriber
    off; a payment of 150 made meanwhile must bring them back (150 >= 100)."""
    subscriber = make_subscriber()

    def raise_threshold():
        tariff_update(tariff=tariff, actor=ACTOR, disconnect_threshold=Decimal("100.00"))
        assert Subscriber.objects.get(pk=subscriber.pk).negbal is True

    result = pay_during(raise_threshold, subscriber, Decimal("150.00"))
    assert not isinstance(result, Exception), result
    assert Account.objects.get(pk=subscriber.pk).balance == Decimal("150.00")
    assert Subscriber.objects.get(pk=subscriber.pk).negbal is False
