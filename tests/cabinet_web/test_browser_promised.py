"""A promised payment end to end in Chromium: the terms shown, taken, the home page and
the database after."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from asr_billing.billing.models import PromisedPayment
from asr_billing.subscribers.models import Subscriber
from tests.cabinet_web.browser import figure, logged_in, open_from_menu

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_take_a_promised_payment(web, shots, cab_world):
    subscriber = cab_world["subscriber"]
    Subscriber.objects.filter(pk=subscriber.pk).update(negbal=True)
    base, page = logged_in(web)
    open_from_menu(page, base, "Promised payment", "/cabinet/promised/")
    assert figure(page, "amount") == "300.00\xa0RUB"
    assert figure(page, "days") == "3 days"
    shots(page, "promised")
    assert not PromisedPayment.objects.exists()
    page.get_by_role("button", name="Take the promised payment").click()
    page.wait_for_url(base + "/cabinet/")
    expect(page.locator("main")).to_contain_text("A promised payment of 300.00 is added until")
    [taken] = PromisedPayment.objects.filter(subscriber=subscriber)
    assert taken.amount == Decimal("300.00")
    shots(page, "promised-home")
