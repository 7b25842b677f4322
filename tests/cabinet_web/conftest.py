"""Fixtures for the cabinet pages: a subscriber like the demo's (testlogin / testpsw at
10.20.30.41, contract BILL…, tariff Home 100 at 600.00 a month) with a payment and
charges in the ledger, and Django test clients logged in or not.."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

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
