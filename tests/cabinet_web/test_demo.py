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
        taken.append(shots(page, "demo-home"))
        page.goto(demo.base + "/cabinet/history/")
        assert page.locator("[data-amount]").count() == min(rows, 25)
        assert f"{rows} operations" in page.locator('[data-figure="totals"]').inner_text()
        taken.append(shots(page, "demo-history"))
        page.get_by_role("button", name="Русский").click()
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
