"""Paying online end to end in Chromium on the demo's test acquirer: the amount, the
order, the marked test page, the payment credited once and shown on return; English on a
desktop, Russian on a phone."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from asr_billing.cabinet.models import PendingPayment, PendingStatus
from asr_billing.finance.models import Account, PaymentOperator
from tests.cabinet_web.browser import figure, logged_in, logged_in_ru_phone, open_from_menu
from tests.cabinet_web.conftest import PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def card(cab_world, config_edit):
    PaymentOperator.objects.create(code="SBERBANK_ACQ", name="Sberbank card payments")
    config_edit("cabinet", "payment.test_acquirer", "yes")
    return cab_world


def test_pay_online_on_the_test_acquirer(web, shots, card):
    subscriber = card["subscriber"]
    base, page = logged_in(web)
    open_from_menu(page, base, "Pay online", "/cabinet/pay/")
    assert figure(page, "balance") == "290.67\xa0RUB"
    shots(page, "pay")
    page.get_by_label("Amount, roubles").fill("500")
    page.get_by_role("button", name="Go to payment").click()
    order = PendingPayment.objects.get()
    page.wait_for_url(f"{base}/cabinet/pay/test-acquirer/{order.pk}/")
    assert "TEST ACQUIRER" in page.inner_text("body")
    assert order.status == PendingStatus.PENDING
    assert Account.objects.get(pk=subscriber.pk).balance == Decimal("290.67")  # not yet
    shots(page, "pay-test-acquirer")
    page.get_by_role("button", name="Pay (test)").click()
    page.wait_for_url(f"{base}/cabinet/pay/?order={order.pk}")
    expect(page.locator("main")).to_contain_text("500.00\xa0RUB is credited to your account.")
    order.refresh_from_db()
    assert order.status == PendingStatus.PAID
    assert Account.objects.get(pk=subscriber.pk).balance == Decimal("790.67")
    shots(page, "pay-done")


def test_pay_in_russian_on_a_phone(web, shots, card):
    base, page = logged_in_ru_phone(web)
    page.goto(base + "/cabinet/pay/")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.get_by_label("Сумма, руб.").fill("abc")
    page.get_by_role("button", name="Перейти к оплате").click()
    expect(page.locator("main")).to_contain_text("Введите сумму в рублях")
    assert not PendingPayment.objects.exists()
    shots(page, "pay-ru-phone")
