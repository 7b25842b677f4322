"""Services end to end in Chromium: connect with the cost shown first, then disconnect;
the database checked after each step; English on a desktop, Russian on a phone."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from asr_billing.cabinet import selectors
from asr_billing.subscribers.models import SubscriberService
from asr_billing.tariffs.models import Service
from tests.cabinet_web.browser import figure, logged_in, logged_in_ru_phone, open_from_menu
from tests.cabinet_web.conftest import PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_connect_and_disconnect_a_service(web, shots, cab_world):
    Service.objects.create(name="Static IP", fee=Decimal("150.00"))
    subscriber = cab_world["subscriber"]
    base, page = logged_in(web)
    open_from_menu(page, base, "Services", "/cabinet/services/")
    shots(page, "services")
    page.get_by_role("link", name="Connect").click()
    assert figure(page, "cost") == "150.00\xa0RUB"
    assert figure(page, "available") == "290.67\xa0RUB"
    shots(page, "service-connect")
    assert not SubscriberService.objects.filter(subscriber=subscriber).exists()
    page.get_by_role("button", name="Connect").click()
    page.wait_for_url(base + "/cabinet/services/")
    expect(page.locator("main")).to_contain_text("Static IP is connected.")
    link = SubscriberService.objects.get(subscriber=subscriber)
    assert (link.enabled_on, link.disabled_on) == (selectors.today(), None)
    page.get_by_role("link", name="Disconnect").click()
    shots(page, "service-disconnect")
    page.get_by_role("button", name="Disconnect").click()
    page.wait_for_url(base + "/cabinet/services/")
    link.refresh_from_db()
    assert link.disabled_on is not None


def test_services_in_russian_on_a_phone(web, shots, cab_world):
    Service.objects.create(name="Статический IP", fee=Decimal("150.00"))
    base, page = logged_in_ru_phone(web)
    page.goto(base + "/cabinet/services/")
    assert page.locator("html").get_attribute("lang") == "ru"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.get_by_role("link", name="Подключить").click()
    assert figure(page, "cost") == "150,00\xa0руб."
    shots(page, "service-connect-ru-phone")
