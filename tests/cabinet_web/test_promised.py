"""The Promised payment page: the terms before confirming, the payment taken by the same
service as web_cabinet.set_promise_pay, refusals said on the page with nothing changed."""

from __future__ import annotations

from decimal import Decimal

import pytest

from asr_billing.billing.models import PromisedPayment
from asr_billing.finance.models import Account
from asr_billing.subscribers.models import Subscriber
from tests.conftest import db_state


@pytest.fixture
def cut_off(cab_world):
    Subscriber.objects.filter(pk=cab_world["subscriber"].pk).update(negbal=True)
    return cab_world


def test_terms_then_taken(logged_in, cut_off, django_assert_max_num_queries):
    subscriber = cut_off["subscriber"]
    with django_assert_max_num_queries(10):
        page = logged_in.get("/cabinet/promised/")
    assert page.status_code == 200
    terms = page.context["terms"]
    assert (terms.amount, terms.days, terms.max_per_month, terms.only_when_cut_off) == (
        Decimal("300.00"), 3, 1, True)
    text = page.content.decode()
    assert "300.00" in text and "3 days" in text and "at most 1 time a month" in text
    assert not PromisedPayment.objects.exists()  # looking changes nothing
    done = logged_in.post("/cabinet/promised/")
    assert done.status_code == 302 and done["Location"] == "/cabinet/"
    [taken] = PromisedPayment.objects.filter(subscriber=subscriber)
    assert taken.amount == Decimal("300.00") and taken.closed_at is None
    assert Account.objects.get(subscriber=subscriber).promised_amount == Decimal("300.00")
    again = logged_in.get("/cabinet/promised/")
    assert again.context["in_force"].pk == taken.pk
    assert "is in force until" in again.content.decode()


def test_not_cut_off_is_refused_on_the_page(logged_in, cab_world):
    before = db_state()
    response = logged_in.post("/cabinet/promised/")
    assert response.status_code == 400
    assert response.context["error"] == (
        "A promised payment can only be taken while the Internet is off for lack of money.")
    assert db_state() == before
    assert not PromisedPayment.objects.exists()


def test_a_second_one_is_refused(logged_in, cut_off):
    assert logged_in.post("/cabinet/promised/").status_code == 302
    PromisedPayment.objects.update(closed_at="2026-01-01T00:00:00Z")  # ended, same month
    Subscriber.objects.filter(pk=cut_off["subscriber"].pk).update(negbal=True)  # cut off again
    before = db_state()
    response = logged_in.post("/cabinet/promised/")
    assert response.status_code == 400
    assert response.context["error"] == (
        "A promised payment was already taken 1 time(s) this month.")
    assert db_state() == before


def test_promised_payments_off(logged_in, cut_off, config_edit):
    config_edit("billing", "promised.amount", "0")
    before = db_state()
    response = logged_in.post("/cabinet/promised/")
    assert response.status_code == 400
    assert response.context["error"] == "A promised payment is not available on your tariff."
    assert db_state() == before
