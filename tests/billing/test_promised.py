"""Promised payments: terms from the tariff or cfg/config, Carbon's refusal texts, the
negbal state moving in the same transaction, expiry by itself."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from asr_billing.billing import texts
from asr_billing.billing.models import PromisedPayment
from asr_billing.billing.services import promised_payment_take, promised_payments_expire
from asr_billing.core.errors import Conflict, InvalidInput
from asr_billing.core.models import AuditEntry
from asr_billing.finance.models import Account, Operation
from asr_billing.finance.services import correction_post
from asr_billing.subscribers.models import Subscriber
from asr_billing.subscribers.services import subscriber_block
from tests.billing.conftest import D, at

DAY = date(2026, 3, 14)


@pytest.fixture
def debtor(make_subscriber):
    with at(DAY, 9):
        sub = make_subscriber(connected_on=date(2026, 3, 1))
        correction_post(subscriber=sub, amount=D("-120.00"), actor="test", description="debt")
    sub.refresh_from_db()
    assert sub.negbal
    return sub


def state(sub):
    account = Account.objects.get(pk=sub.pk)
    return (account.promised_amount, Subscriber.objects.get(pk=sub.pk).negbal,
            PromisedPayment.objects.filter(subscriber=sub).count())


def refused(sub, error, text, **kwargs):
    before = (state(sub), AuditEntry.objects.count(), Operation.objects.count())
    with pytest.raises(error) as caught:
        promised_payment_take(subscriber=sub, actor="cabinet", **kwargs)
    assert caught.value.message == text
    assert (state(sub), AuditEntry.objects.count(), Operation.objects.count()) == before


def test_take_lifts_the_cut_off_and_expiry_restores_it(debtor):
    with at(DAY, 13):
        promised = promised_payment_take(subscriber=debtor, actor="cabinet")
    assert promised.amount == D("300.00")
    assert promised.expires_at == datetime(2026, 3, 17, 13, 0, tzinfo=ZoneInfo("Europe/Moscow"))
    assert state(debtor) == (D("300.00"), False, 1)
    actions = list(AuditEntry.objects.filter(subscriber=debtor).order_by("pk")
                   .values_list("action", flat=True))
    assert actions[-2:] == ["promised_payment_take", "negbal_off"]
    with at(date(2026, 3, 17), 12, 59):
        assert promised_payments_expire() == 0
    with at(date(2026, 3, 17), 13, 0):
        assert promised_payments_expire() == 1
        assert promised_payments_expire() == 0  # once
    assert state(debtor) == (D("0.00"), True, 1)
    promised.refresh_from_db()
    assert promised.closed_at == datetime(2026, 3, 17, 10, 0, tzinfo=UTC)
    assert AuditEntry.objects.filter(subscriber=debtor).latest("pk").action == "negbal_on"


def test_refusals_with_carbons_texts(debtor, make_subscriber, cfg):
    with at(DAY, 13):
        promised_payment_take(subscriber=debtor, actor="cabinet")
        refused(debtor, Conflict, "Обещанный платеж уже подключен")
        paid = make_subscriber(name="Paid")
        refused(paid, InvalidInput, "Обещанный платеж доступен только для разблокировки")
    with at(date(2026, 3, 20), 13):
        promised_payments_expire()
        refused(debtor, Conflict, "Обещанный платеж уже был подключен в этом месяце 1 раз")
    cfg("billing", "promised.amount", "0")
    with at(date(2026, 4, 1), 13):
        refused(debtor, InvalidInput, "Обещанный платеж нельзя подключить")
    limit = "Обещанный платеж уже был подключен в этом месяце 2 раз"
    assert limit == texts.PROMISED_MONTH_LIMIT % 2


def test_admin_blocked_cannot_take(debtor):
    subscriber_block(subscriber=debtor, actor="test", reason="fraud")
    with at(DAY, 13):
        refused(debtor, InvalidInput, texts.PROMISED_NOT_AVAILABLE)


def test_tariff_terms_override_the_config(debtor, tariff, cfg):
    cfg("billing", "promised.max_per_month", "0")  # unlimited by default ...
    cfg("billing", "promised.only_when_cut_off", "no")
    tariff.promised_amount = D("150.00")
    tariff.promised_days = 1
    tariff.promised_max_per_month = 2  # ... but twice a month on this tariff
    tariff.save()
    for hour in (9, 11):
        with at(DAY, hour):
            promised = promised_payment_take(subscriber=debtor, actor="cabinet")
        assert promised.amount == D("150.00")
        assert promised.expires_at - promised.created_at == timedelta(days=1)
        with at(DAY + timedelta(days=1), hour):
            promised_payments_expire()
    with at(DAY + timedelta(days=2), 9):
        refused(debtor, Conflict, "Обещанный платеж уже был подключен в этом месяце 2 раз")


def test_month_is_the_local_month(debtor):
    # 23:30 on March 31 in Moscow is 20:30 UTC: still March; 00:30 on April 1 is April.
    with at(date(2026, 3, 31), 23, 30):
        promised_payment_take(subscriber=debtor, actor="cabinet")
    with at(date(2026, 4, 5), 12):
        promised_payments_expire()
        assert promised_payment_take(subscriber=debtor, actor="cabinet").amount == D("300.00")


def test_over_dst_in_berlin(debtor, cfg):
    cfg("app", "time_zone", "Europe/Berlin")
    with at(date(2026, 3, 28), 12, tz="Europe/Berlin"):
        promised = promised_payment_take(subscriber=debtor, actor="cabinet")
    # three local days over the spring change: 71 hours, same wall-clock time
    assert promised.expires_at - promised.created_at == timedelta(hours=71)
    with at(date(2026, 3, 31), 11, 59, tz="Europe/Berlin"):
        assert promised_payments_expire() == 0
    with at(date(2026, 3, 31), 12, 0, tz="Europe/Berlin"):
        assert promised_payments_expire() == 1
