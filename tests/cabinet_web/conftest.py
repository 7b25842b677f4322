"""Fixtures for the cabinet pages: a subscriber like the demo's (testlogin / testpsw at
10.20.30.41, contract BILL…, tariff Home 100 at 600.00 a month) with a payment and
charges in the ledger, and Django test clients logged in or not.."""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from asr_billing.cabinet.web.auth import LANGUAGE_COOKIE, SESSION_COOKIE
from asr_billing.finance.services import charge_post, payment_register

ACTOR = "test"
LOGIN, PASSWORD, IP = "testlogin", "testpsw", "10.20.30.41"



def post_charge(subscriber, amount: Decimal, when: dt.datetime, text: str = "Абонентская плата"):
    """The tariff's charge for the local day of ``when``, posted at ``when`` through the
    ledger service (the pages only read the ledger)."""
    day = timezone.localtime(when).date()
    return charge_post(subscriber=subscriber, amount=amount, actor=ACTOR, period_start=day,
                       period_end=day, tariff=subscriber.tariff, description=text,
                       op_date=when).operation


@pytest.fixture
def cab_world(db, make_subscriber, make_login, operator):
    """The subscriber, its login, payments 40 and 10 days ago (500.00, 390.67) and a charge
    of 600.00 35 days ago: balance 290.67."""
    subscriber = make_subscriber(email="ivanov@example.com")
    now = timezone.now()
    payment_register(subscriber=subscriber, amount=Decimal("500.00"), actor=ACTOR,
                     operator=operator, external_id="w1", op_date=now - dt.timedelta(days=40))
    payment_register(subscriber=subscriber, amount=Decimal("390.67"), actor=ACTOR,
                     operator=operator, external_id="w2", op_date=now - dt.timedelta(days=10))
    post_charge(subscriber, Decimal("600.00"), now - dt.timedelta(days=35))
    login = make_login(subscriber, LOGIN, PASSWORD, ip=IP)
    subscriber.refresh_from_db()
    return {"subscriber": subscriber, "login": login}


@pytest.fixture
def page_client(client):
    """A Django test client speaking English on the cabinet pages."""
    client.cookies[LANGUAGE_COOKIE] = "en"
    return client


@pytest.fixture
def logged_in(page_client, cab_world):
    """page_client logged in as testlogin through the login form."""
    response = page_client.post("/cabinet/login/", {"login": LOGIN, "password": PASSWORD})
    assert response.status_code == 302, response.content[:500]
    assert page_client.cookies[SESSION_COOKIE].value
    return page_client


# --- Browser tests: a live server and Debian's chromium through Playwright ----------------

CHROMIUM = "/usr/bin/chromium"
PHONE = {"width": 375, "height": 740}  # a small phone's CSS pixels


def screenshot_dir(tmp_path_factory) -> Path:
    """Where the browser tests put their screenshots: $ASR_SCREENSHOTS, else
    cabinet-screenshots/ in this run's pytest temp folder (the same for every xdist
    worker; the run prints it at the end, tests/conftest.py)."""
    if os.environ.get("ASR_SCREENSHOTS"):
        path = Path(os.environ["ASR_SCREENSHOTS"])
    else:
        base = tmp_path_factory.getbasetemp()
        if os.environ.get("PYTEST_XDIST_WORKER"):
            base = base.parent
        path = base / "cabinet-screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def browser(monkeypatch):
    """Debian's chromium, headless. Missing: the test skips with the reason locally and
    fails in CI (CI=true), where .ci/run installs it. Never `playwright install`: this
    machine cannot download browsers."""
    if not Path(CHROMIUM).exists():
        reason = f"{CHROMIUM} is missing: apt-get install -y chromium"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    sync_api = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API keeps an event loop in this thread; the test's own ORM calls
    # are plain synchronous code and safe.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            # As root (CI containers) chromium refuses to start with its sandbox.
            args=["--no-sandbox"] if os.geteuid() == 0 else [],
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def shots(tmp_path_factory, request):
    """``shots(page, "home-en")`` saves a full-page PNG named after the test's file."""
    folder = screenshot_dir(tmp_path_factory)

    def take(page, name: str) -> Path:
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def web(live_server, cab_world, browser):
    """(live server URL, a function making a page with options: language, viewport,
    extra headers)."""
    contexts = []

    def new_page(*, language="en", viewport=None, headers=None):
        context = browser.new_context(viewport=viewport or {"width": 1280, "height": 900},
                                      extra_http_headers=headers or {},
                                      accept_downloads=True)
        contexts.append(context)
        if language:
            context.add_cookies([{"name": LANGUAGE_COOKIE, "value": language,
                                  "url": live_server.url + "/cabinet/"}])
        return context.new_page()

    yield live_server.url, new_page
    for context in contexts:
        context.close()
