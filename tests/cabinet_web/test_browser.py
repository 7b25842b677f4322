"""The cabinet in a real browser: Debian's chromium driven by Playwright against a live
server on the test database. Each test saves screenshots of the pages it visits into the
folder the run prints at its end (ASR_SCREENSHOTS to choose it)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect

from asr_billing.cabinet import selectors
from asr_billing.cabinet.models import CabinetSession, SessionMethod
from asr_billing.finance.models import Operation
from tests.cabinet_web.browser import figure, log_in, open_from_menu
from tests.cabinet_web.conftest import IP, LOGIN, PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_log_in_and_the_home_page_shows_the_ledger(web, shots, cab_world):
    base, new_page = web
    page = new_page()
    page.goto(base + "/cabinet/")
    shots(page, "login-en")
    log_in(page, base)
    page.wait_for_url(base + "/cabinet/")
    subscriber = cab_world["subscriber"]
    ledger = sum(Operation.objects.filter(account_id=subscriber.pk)
                 .values_list("amount", flat=True))  # Decimals: exact on SQLite too
    assert figure(page, "balance") == f"{ledger}\xa0RUB" == "290.67\xa0RUB"
    money = selectors.money_state(subscriber, selectors.today())
    assert figure(page, "recommended") == f"{money.recommended_pay}\xa0RUB"
    assert figure(page, "lasts") == money.lasts.until.strftime("%m/%d/%Y")
    assert page.locator('[data-state="active"]').is_visible()
    chart = page.get_by_role("img", name="Balance for the last 3 months")
    assert chart.is_visible()
    shots(page, "home-en")
    page.get_by_role("link", name="12 months").click()
    # expect() waits for the new page; a bare is_visible() read the old one on a busy machine
    expect(page.get_by_role("img", name="Balance for the last 12 months")).to_be_visible()
    session = CabinetSession.objects.get()
    assert session.method == SessionMethod.PASSWORD and session.closed_at is None
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(base + "/cabinet/login/")
    assert page.get_by_role("status").inner_text() == "You have logged out"
    session.refresh_from_db()
    assert session.closed_at is not None


def test_a_wrong_password_is_said_on_the_form(web, shots):
    base, new_page = web
    page = new_page()
    log_in(page, base, password="wrong")
    assert page.get_by_role("alert").inner_text() == "Wrong login or password."
    assert page.get_by_label("Login").input_value() == LOGIN
    shots(page, "login-error-en")
    assert not CabinetSession.objects.exists()


def test_history_filter_and_csv(web, shots, cab_world):
    base, new_page = web
    page = new_page()
    log_in(page, base)
    open_from_menu(page, base, "Payments and charges", "/cabinet/history/")
    assert page.locator("[data-amount]").all_inner_texts() == [
        "+390.67\xa0RUB", "-600.00\xa0RUB", "+500.00\xa0RUB"]
    shots(page, "history-en")
    today = selectors.today()
    first, last = today - dt.timedelta(days=36), today - dt.timedelta(days=5)
    page.get_by_label("From").fill(first.isoformat())
    page.get_by_label("To").fill(last.isoformat())
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r".*first=.*"))
    shown = [Decimal(a) for a in page.locator("[data-amount]").evaluate_all(
        "cells => cells.map(c => c.dataset.amount)")]
    expected = list(Operation.objects.filter(
        account_id=cab_world["subscriber"].pk, op_date__gte=selectors.day_start(first),
        op_date__lt=selectors.day_start(last + dt.timedelta(days=1)),
    ).order_by("-op_date", "-id").values_list("amount", flat=True))
    assert shown == expected == [Decimal("390.67"), Decimal("-600.00")]
    with page.expect_download() as info:
        page.get_by_role("link", name="Download CSV").click()
    download = info.value
    assert download.suggested_filename == (
        f"payments-BILL0000001-{first.isoformat()}-{last.isoformat()}.csv")
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert [Decimal(r[2]) for r in rows[1:]] == list(reversed(expected))
    # A bad date: said on the form, nothing listed.
    page.goto(base + "/cabinet/history/?first=2025-02-30")
    assert "Enter a date such as" in page.get_by_role("alert").first.inner_text()
    assert page.locator("[data-amount]").count() == 0
    shots(page, "history-bad-date-en")


def test_auto_login_by_address(web, shots, config_edit):
    config_edit("network", "api.trusted_proxies", "127.0.0.1")
    base, new_page = web
    page = new_page(headers={"X-Forwarded-For": IP})
    page.goto(base + "/cabinet/")
    assert page.url == base + "/cabinet/"
    assert page.get_by_role("heading", level=1).inner_text() == "Иванов Иван Иванович"
    assert CabinetSession.objects.get().method == SessionMethod.AUTO_IP


def test_auto_login_off(web, config_edit):
    config_edit("network", "api.trusted_proxies", "127.0.0.1")
    config_edit("cabinet", "web.auto_login", "no")
    base, new_page = web
    page = new_page(headers={"X-Forwarded-For": IP})
    page.goto(base + "/cabinet/")
    assert page.url.startswith(base + "/cabinet/login/")
    assert not CabinetSession.objects.exists()


def test_russian_and_english(web, shots, config_edit):
    config_edit("app", "language", "ru")
    base, new_page = web
    page = new_page(language=None)  # the operator's language: Russian
    page.goto(base + "/cabinet/login/")
    assert page.locator("html").get_attribute("lang") == "ru"
    shots(page, "login-ru")
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    log_in(page, base)
    page.wait_for_url(base + "/cabinet/")
    assert figure(page, "balance") == "290.67\xa0RUB"
    page.get_by_role("button", name="Русский").click()
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    assert figure(page, "balance") == "290,67\xa0руб."
    shots(page, "home-ru")
    page.goto(base + "/cabinet/history/")
    shots(page, "history-ru")


def test_a_phone_sized_screen(web, shots):
    base, new_page = web
    page = new_page(viewport=PHONE)
    page.goto(base + "/cabinet/login/")
    shots(page, "login-phone")
    log_in(page, base)
    page.wait_for_url(base + "/cabinet/")
    # Nothing wider than the screen: no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.get_by_role("img", name=re.compile("Balance for the last")).bounding_box()[
        "width"] <= PHONE["width"]
    shots(page, "home-phone")
    page.goto(base + "/cabinet/history/")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shots(page, "history-phone")


def test_the_keyboard_reaches_the_form(web):
    base, new_page = web
    page = new_page()
    page.goto(base + "/cabinet/login/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    focused = []
    for _step in range(8):
        page.keyboard.press("Tab")
        focused.append(page.evaluate(
            "document.activeElement.id || document.activeElement.textContent"))
    assert "id_password" in focused and "Log in" in focused
