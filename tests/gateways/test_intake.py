"""The pieces every gateway shares: the payer's lookup, reading a sum, the payer's name
as payment systems show it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from asr_billing.finance.services import correction_post
from asr_billing.gateways.base import Reason, Refused, masked_name
from asr_billing.gateways.intake import amount_from_wire
from asr_billing.subscribers.models import Subscriber
from asr_billing.subscribers.selectors import PayerRef, SubscriberRef, payer_find


@pytest.fixture
def payer(payee, make_login):
    make_login(payee, "old", ip="10.20.30.42", enabled=False)
    correction_post(subscriber=payee, amount=Decimal("-12.50"), actor="t", description="x")
    Subscriber.objects.filter(pk=payee.pk).update(admin_blocked=True)
    return payee


@pytest.mark.parametrize(("by", "value"), [
    ("contract", "BILL0000001"), ("contract", " BILL0000001 "), ("login", "payer1"),
    ("login", "old"), ("ip", "10.20.30.41"), ("ip", "::ffff:10.20.30.41"), ("id", "{pk}")])
def test_payer_found_in_one_query(payer, django_assert_num_queries, by, value):
    with django_assert_num_queries(1):
        found = payer_find(by=by, value=value.format(pk=payer.pk))
    assert found == PayerRef(payer.pk, "BILL0000001", "Иванов Иван Иванович", False, True,
                             Decimal("-12.50"))
    assert isinstance(found, SubscriberRef)  # payment_register takes it as the subscriber
    assert isinstance(found.balance, Decimal)


@pytest.mark.parametrize(("by", "value"), [
    ("contract", "BILL0000002"), ("login", "nobody"), ("ip", "10.20.30.42"), ("id", "999999"),
])
def test_payer_not_found(payer, by, value):
    assert payer_find(by=by, value=value) is None


@pytest.mark.parametrize(("by", "value"), [
    ("contract", ""), ("ip", "10.20.30"), ("id", "1.0"), ("id", "٣"), ("id", "9" * 19)])
def test_values_that_cannot_be_such_a_key_need_no_query(payer, django_assert_num_queries, by,
                                                        value):
    with django_assert_num_queries(0):
        assert payer_find(by=by, value=value) is None


def test_an_unknown_kind_of_key_is_a_programming_error(db):
    with pytest.raises(ValueError, match="unknown payer key 'phone'"):
        payer_find(by="phone", value="1")


@pytest.mark.parametrize(("text", "amount"), [
    ("100", "100.00"), ("100.5", "100.50"), ("100.50", "100.50"), ("0.01", "0.01"),
    (" 1 000,50 ", "1000.50"), (None, None)])
def test_sums_read(text, amount):
    assert amount_from_wire(text) == (Decimal(amount) if amount else None)


@pytest.mark.parametrize("text", ["-1", "0", "0.00", "1e3", "NaN", "inf", "100.005",
                                  "1" * 30, "", "12a", "١٠٠"])
def test_sums_refused(text):
    with pytest.raises(Refused) as info:
        amount_from_wire(text)
    assert info.value.reason is Reason.BAD_AMOUNT


@pytest.mark.parametrize(("name", "company", "shown"), [
    ("Иванов Иван Иванович", False, "Иванов И. И."),
    ("Иванов  Иван", False, "Иванов И."),
    ("Иванов", False, "Иванов"),
    ("ООО «Ромашка»", True, "ООО «Ромашка»"),
])
def test_masked_name(name, company, shown):
    assert masked_name(name, company) == shown
