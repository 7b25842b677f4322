"""The Pay online page: the order created through the service of
web_cabinet.add_payment_operation, the redirect to the acquirer with the order's fields,
the demo's test acquirer crediting it exactly once or declining it, the order's state on
return; bad amounts refused on the form with nothing changed; off when not configured."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest

from asr_billing.cabinet.models import PendingPayment, PendingStatus
from asr_billing.finance.models import Account, Operation, PaymentOperator
from tests.conftest import db_state


@pytest.fixture
def acq(cab_world, config_edit):
    """The cabinet's card operator; no acquirer set up (the test home is a demo one)."""
    PaymentOperator.objects.create(code="SBERBANK_ACQ", name="Sberbank card payments")
    config_edit("cabinet", "payment.test_acquirer", "no")
    return cab_world


@pytest.fixture
def test_mode(acq, config_edit):
    config_edit("cabinet", "payment.test_acquirer", "yes")
    return acq


def pay_state() -> dict:
    return {**db_state(), "orders": list(PendingPayment.objects.order_by("pk").values_list(
        "pk", "status", "amount", "operation_id"))}


def test_not_configured_says_how_else_to_pay(logged_in, acq):
    page = logged_in.get("/cabinet/pay/")
    assert page.status_code == 200 and not page.context["enabled"]
    assert "Paying online is not available yet." in page.content.decode()
    before = pay_state()
    assert logged_in.post("/cabinet/pay/", {"amount": "500", "operator": "SBERBANK_ACQ"}
                          ).status_code == 404
    assert pay_state() == before
    assert logged_in.get("/cabinet/pay/test-acquirer/1/").status_code == 404


def test_test_acquirer_pays_exactly_once(logged_in, test_mode, django_assert_max_num_queries):
    subscriber = test_mode["subscriber"]
    with django_assert_max_num_queries(10):
        page = logged_in.get("/cabinet/pay/")
    assert page.context["enabled"] and "Test mode:" in page.content.decode()
    # the recommended payment: with 290.67 on the account, 309.33 covers the 600.00 month
    assert page.context["form"]["amount"].value() == "309.33"
    started = logged_in.post("/cabinet/pay/", {"amount": "750,50", "operator": "SBERBANK_ACQ"})
    order = PendingPayment.objects.get()
    assert started.status_code == 302
    assert started["Location"] == f"/cabinet/pay/test-acquirer/{order.pk}/"
    assert (order.amount, order.status, order.src_ip) == (
        Decimal("750.50"), PendingStatus.PENDING, "127.0.0.1")
    balance = Account.objects.get(pk=subscriber.pk).balance
    bank = logged_in.get(started["Location"])
    assert "TEST ACQUIRER" in bank.content.decode() and "750.50" in bank.content.decode()
    paid = logged_in.post(started["Location"], {"outcome": "pay"})
    assert paid["Location"] == f"/cabinet/pay/?order={order.pk}"
    order.refresh_from_db()
    assert order.status == PendingStatus.PAID and order.bank_reference == f"TEST-{order.pk}"
    assert Account.objects.get(pk=subscriber.pk).balance == balance + Decimal("750.50")
    operation = Operation.objects.get(pk=order.operation_id)
    assert (operation.amount, operation.external_id, operation.actor) == (
        Decimal("750.50"), f"cabinet:{order.pk}", "test-acquirer")
    back = logged_in.get(paid["Location"])
    assert back.context["returned"].pk == order.pk
    assert "is credited to your account" in back.content.decode()
    before = pay_state()
    again = logged_in.post(started["Location"], {"outcome": "pay"})  # a double click
    assert again.status_code == 302 and pay_state() == before


def test_test_acquirer_declines(logged_in, test_mode):
    logged_in.post("/cabinet/pay/", {"amount": "100", "operator": "SBERBANK_ACQ"})
    order = PendingPayment.objects.get()
    before = db_state()
    logged_in.post(f"/cabinet/pay/test-acquirer/{order.pk}/", {"outcome": "decline"})
    order.refresh_from_db()
    assert order.status == PendingStatus.CANCELLED and order.operation_id is None
    assert db_state()["operations"] == before["operations"]
    back = logged_in.get(f"/cabinet/pay/?order={order.pk}").content.decode()
    assert "did not go through" in back


@pytest.mark.parametrize("amount, error", [
    ("", "Enter the amount."),
    ("abc", "Enter an amount in roubles"),
    ("0", "Enter an amount in roubles"),
    ("-5", "Enter an amount in roubles"),
    ("10.555", "Enter an amount in roubles"),
    ("100001", "At most 100000.00 in one payment."),
    ("1e9", "Enter an amount in roubles"),
])
def test_bad_amount_refused(logged_in, test_mode, amount, error):
    before = pay_state()
    response = logged_in.post("/cabinet/pay/", {"amount": amount, "operator": "SBERBANK_ACQ"})
    assert response.status_code == 400 and error in response.content.decode()
    assert pay_state() == before


def test_operator_not_offered_refused(logged_in, test_mode):
    PaymentOperator.objects.create(code="CASH", name="Cash")
    before = pay_state()
    response = logged_in.post("/cabinet/pay/", {"amount": "100", "operator": "CASH"})
    assert response.status_code == 400 and pay_state() == before


def test_someone_elses_order_is_404(logged_in, test_mode, make_subscriber):
    other = make_subscriber(name="Петров Пётр")
    theirs = PendingPayment.objects.create(
        subscriber=other, operator=PaymentOperator.objects.get(code="SBERBANK_ACQ"),
        amount=Decimal("100.00"), created_at="2026-01-01T00:00:00Z")
    before = pay_state()
    assert logged_in.get(f"/cabinet/pay/test-acquirer/{theirs.pk}/").status_code == 404
    assert logged_in.post(f"/cabinet/pay/test-acquirer/{theirs.pk}/",
                          {"outcome": "pay"}).status_code == 404
    assert pay_state() == before


def test_real_acquirer_redirect(logged_in, acq, config_edit):
    config_edit("cabinet", "payment.acquirer_url",
                "https://pay.bank.example/form?order={order}&sum={amount}&c={contract}"
                "&back={return}")
    started = logged_in.post("/cabinet/pay/", {"amount": "300", "operator": "SBERBANK_ACQ"})
    order = PendingPayment.objects.get()
    url = urlsplit(started["Location"])
    query = parse_qs(url.query)
    assert (url.scheme, url.netloc, url.path) == ("https", "pay.bank.example", "/form")
    assert query == {"order": [str(order.pk)], "sum": ["300.00"],
                     "c": [acq["subscriber"].contract_number],
                     "back": [f"http://testserver/cabinet/pay/?order={order.pk}"]}
    assert logged_in.get(f"/cabinet/pay/test-acquirer/{order.pk}/").status_code == 404
    waiting = logged_in.get(f"/cabinet/pay/?order={order.pk}").content.decode()
    assert "Waiting for the bank" in waiting


@pytest.mark.parametrize("value", ["ftp://x/{order}", "https://x/{ord}", "https://x/",
                                   "https://x/{order"])
def test_bad_acquirer_url_in_config_refused(value):
    from asr_billing.core.config_checks import check_acquirer_url

    with pytest.raises(ValueError):
        check_acquirer_url(value)
