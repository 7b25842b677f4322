"""A new disconnect threshold and a payment that overlap, on a real PostgreSQL."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection, transaction

from asr_billing.finance.models import Account
from asr_billing.finance.services import payment_register
from asr_billing.subscribers.models import Subscriber
from asr_billing.tariffs.services import tariff_update
from tests.conftest import ACTOR, requires_postgres
from tests.finance.test_concurrency import _wait_until_blocked_or_done

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


def test_a_payment_during_a_threshold_change_is_judged_by_the_new_threshold(
    make_subscriber, tariff
):
    """balance 0, threshold 0: not cut off. Raising the threshold to 100 cuts the subscriber
    off; a payment of 150 made meanwhile must bring them back (150 >= 100)."""
    subscriber = make_subscriber()
    outcome = {}

    def pay():
        try:
            outcome["result"] = payment_register(subscriber=subscriber, amount=Decimal("150.00"),
                                                 actor=ACTOR)
        except Exception as exc:
            outcome["result"] = exc
        finally:
            connection.close()

    payer = threading.Thread(target=pay)
    with transaction.atomic():
        tariff_update(tariff=tariff, actor=ACTOR, disconnect_threshold=Decimal("100.00"))
        assert Subscriber.objects.get(pk=subscriber.pk).negbal is True
        payer.start()
        _wait_until_blocked_or_done(payer)
    payer.join()
    assert not isinstance(outcome["result"], Exception), outcome
    assert Account.objects.get(pk=subscriber.pk).balance == Decimal("150.00")
    assert Subscriber.objects.get(pk=subscriber.pk).negbal is False
