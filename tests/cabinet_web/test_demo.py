"""The cabinet on the real demo (``asr-billing init --demo`` served by ``asr-billing
serve``, as docs/cabinet.md shows it): testlogin / testpsw logs in and sees BILL0000003's
balance and history, equal to the demo database's ledger. Its screenshots are the ones in
docs/images/: ``ASR_DOCS_IMAGES=docs/images make test PYTEST_ARGS="tests/cabinet_web/test_demo.py"``
writes them there."""

from __future__ import annotations

import os
import shutil
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.cabinet_web.conftest import PHONE
from tests.docs.server import DemoServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TEST_SUBSCRIBER_ID = 1303  # BILL0000003 (asr_billing.demo.story)


def money(value: Decimal) -> str:
    return f"{value:,.2f}\xa0RUB"


def test_testlogin_on_the_demo(browser, shots, tmp_path_factory):
    demo = DemoServer(tmp_path_factory.mktemp("cabinet-demo"), workers=1)
    demo.start()
    taken = []
    try:
        with sqlite3.connect(demo.database) as db:
            balance = Decimal(db.execute(
                "select balance from finance_account where subscriber_id = ?",
                [TEST_SUBSCRIBER_ID]).fetchone()[0]).quantize(Decimal("0.01"))
            ledger = sum((Decimal(str(a)) for (a,) in db.execute(
                "select amount from finance_operation where account_id = ?",
                [TEST_SUBSCRIBER_ID])), Decimal(0)).quantize(Decimal("0.01"))
            rows = db.execute("select count(*) from finance_operation where account_id = ?",
                              [TEST_SUBSCRIBER_ID]).fetchone()[0]
        assert balance == ledger
        context = browser.new_context(viewport={"width": 1100, "height": 900})
        page = context.new_page()
        page.goto(demo.base + "/cabinet/")
        taken.append(shots(page, "demo-login"))
        page.get_by_label("Login").fill("testlogin")
        page.get_by_label("Password").fill("testpsw")
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(demo.base + "/cabinet/")
        assert "BILL0000003" in page.locator("p.sub").inner_text()
        assert page.locator('[data-figure="balance"]').inner_text() == money(balance)
        page.get_by_role("link", name="12 months").click()
        expect(page.get_by_role("img", name="Balance for the last 12 months")).to_be_visible()
        taken.append(shots(page, "demo-home"))
        page.goto(demo.base + "/cabinet/history/")
        assert page.locator("[data-amount]").count() == min(rows, 25)
        assert f"{rows} operations" in page.locator('[data-figure="totals"]').inner_text()
        taken.append(shots(page, "demo-history"))
        page.get_by_role("button", name="Русский").click()
        expect(page.locator("html")).to_have_attribute("lang", "ru")  # the cookie is set
        page.goto(demo.base + "/cabinet/")
        assert page.locator("html").get_attribute("lang") == "ru"
        taken.append(shots(page, "demo-home-ru"))
        context.close()
        phone = browser.new_context(viewport=PHONE, device_scale_factor=2)
        page = phone.new_page()
        page.goto(demo.base + "/cabinet/login/")
        page.get_by_label("Login").fill("testlogin")
        page.get_by_label("Password").fill("testpsw")
        page.get_by_label("Password").press("Enter")
        page.wait_for_url(demo.base + "/cabinet/")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        taken.append(shots(page, "demo-home-phone"))
        phone.close()
    finally:
        demo.stop()
    target = os.environ.get("ASR_DOCS_IMAGES")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        for path in taken:
            shutil.copy(path, Path(target) / f"cabinet-{path.name.removeprefix('demo-')}")


def test_testlogin_acts_on_the_demo(browser, shots, tmp_path_factory):
    """Each action page on the demo in Chromium, with the database checked after the
    writes: a tariff change scheduled and cancelled, a ticket answered by the subscriber,
    an online payment through the test acquirer credited once. The screenshots are the
    action pages' pictures in docs/cabinet.md."""
    demo = DemoServer(tmp_path_factory.mktemp("cabinet-demo-actions"), workers=1)
    demo.start()
    taken = []

    def one(sql: str, *args):
        with sqlite3.connect(demo.database) as db:
            return db.execute(sql, args).fetchone()

    try:
        context = browser.new_context(viewport={"width": 1100, "height": 900})
        page = context.new_page()
        page.goto(demo.base + "/cabinet/login/")
        page.get_by_label("Login").fill("testlogin")
        page.get_by_label("Password").fill("testpsw")
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(demo.base + "/cabinet/")
        for name, path in (("services", "services/"), ("promised", "promised/"),
                           ("vblock", "vblock/"), ("notifications", "notifications/"),
                           ("profile", "profile/")):
            page.goto(f"{demo.base}/cabinet/{path}")
            assert page.locator("h1").count() == 1
            taken.append(shots(page, f"demo-{name}"))
        # Tariff: Домашний 100 → Домашний 300 from the 1st of next month, then cancelled.
        page.goto(demo.base + "/cabinet/tariff/")
        taken.append(shots(page, "demo-tariff"))
        page.locator("li", has_text="Домашний 300").get_by_role("link", name="Choose").click()
        taken.append(shots(page, "demo-tariff-confirm"))
        page.get_by_role("button", name="Change the tariff").click()
        page.wait_for_url(demo.base + "/cabinet/tariff/")
        [scheduled] = one("select t.name from subscribers_subscriber s join tariffs_tariff t "
                          "on t.id = s.tariff_next_id where s.id = ?", TEST_SUBSCRIBER_ID)
        assert scheduled == "Домашний 300"
        page.get_by_role("button", name="Cancel the change").click()
        page.wait_for_url(demo.base + "/cabinet/tariff/")
        assert one("select tariff_next_id from subscribers_subscriber where id = ?",
                   TEST_SUBSCRIBER_ID) == (None,)
        # Helpdesk: testlogin's demo ticket, a reply.
        page.goto(demo.base + "/cabinet/helpdesk/")
        taken.append(shots(page, "demo-helpdesk"))
        page.locator("[data-ticket] a").first.click()
        taken.append(shots(page, "demo-ticket"))
        if page.get_by_label("Your message").count():
            before = one("select count(*) from cabinet_ticketmessage")[0]
            page.get_by_label("Your message").fill("Спасибо, всё работает.")
            page.get_by_role("button", name="Send").click()
            assert one("select count(*) from cabinet_ticketmessage")[0] == before + 1
        # Pay online on the demo's test acquirer.
        balance = Decimal(one("select balance from finance_account where subscriber_id = ?",
                              TEST_SUBSCRIBER_ID)[0])
        page.goto(demo.base + "/cabinet/pay/")
        taken.append(shots(page, "demo-pay"))
        page.get_by_label("Amount, roubles").fill("500")
        page.get_by_role("button", name="Go to payment").click()
        taken.append(shots(page, "demo-pay-test-acquirer"))
        page.get_by_role("button", name="Pay (test)").click()
        page.wait_for_url(demo.base + "/cabinet/pay/?order=*")
        expect(page.locator("main")).to_contain_text("is credited to your account")
        after = Decimal(one("select balance from finance_account where subscriber_id = ?",
                            TEST_SUBSCRIBER_ID)[0])
        assert (after - balance).quantize(Decimal("0.01")) == Decimal("500.00")
        context.close()
    finally:
        demo.stop()
    target = os.environ.get("ASR_DOCS_IMAGES")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        for path in taken:
            shutil.copy(path, Path(target) / f"cabinet-{path.name.removeprefix('demo-')}")
