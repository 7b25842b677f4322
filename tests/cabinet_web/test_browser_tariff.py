"""The tariff change end to end in Chromium: the choices, the day and the first charge
shown before confirming, the change scheduled in the database, then cancelled; English on
a desktop, Russian on a phone."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from asr_billing.billing import tariff_choice
from asr_billing.cabinet import selectors
from asr_billing.subscribers.models import Subscriber
from asr_billing.tariffs.models import Tariff
from tests.cabinet_web.browser import figure, logged_in, logged_in_ru_phone, open_from_menu
from tests.cabinet_web.conftest import PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def home300(cab_world, tariff):
    Tariff.objects.filter(pk=tariff.pk).update(web_line="Home")
    return Tariff.objects.create(name="Home 300", fee=Decimal("850.00"), web_line="Home",
                                 rate_in=300 * 1024, ceil_in=300 * 1024)


def test_choose_then_cancel_a_tariff(web, shots, cab_world, tariff, home300):
    subscriber = cab_world["subscriber"]
    starts = tariff_choice.change_day(tariff, selectors.today())
    base, page = logged_in(web)
    open_from_menu(page, base, "Tariff", "/cabinet/tariff/", exact=True)
    shots(page, "tariff")
    page.get_by_role("link", name="Choose").click()
    assert figure(page, "fee") == "850.00\xa0RUB (Monthly)"
    assert figure(page, "starts") == starts.strftime("%m/%d/%Y")
    shots(page, "tariff-confirm")
    assert Subscriber.objects.get(pk=subscriber.pk).tariff_next_id is None  # only looked
    page.get_by_role("button", name="Change the tariff").click()
    page.wait_for_url(base + "/cabinet/tariff/")
    expect(page.locator("main")).to_contain_text("Your tariff changes to Home 300")
    changed = Subscriber.objects.get(pk=subscriber.pk)
    assert (changed.tariff_id, changed.tariff_next_id, changed.tariff_next_date) == (
        tariff.pk, home300.pk, starts)
    shots(page, "tariff-scheduled")
    page.get_by_role("button", name="Cancel the change").click()
    page.wait_for_url(base + "/cabinet/tariff/")
    assert Subscriber.objects.get(pk=subscriber.pk).tariff_next_id is None


def test_tariff_in_russian_on_a_phone(web, shots, cab_world, home300):
    base, page = logged_in_ru_phone(web)
    page.goto(base + "/cabinet/tariff/")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.get_by_role("link", name="Выбрать").click()
    assert figure(page, "fee").startswith("850,00\xa0руб.")
    shots(page, "tariff-confirm-ru-phone")
