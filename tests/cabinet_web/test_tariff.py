"""The Tariff page: the tariffs of the current one's line, the day a change takes effect
and its first charge before confirming, the change scheduled through the same service as
REST v2's tarif_next, cancelling it, and every refusal said on the page with nothing
changed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from asr_billing.billing import tariff_choice
from asr_billing.billing.periods import Month
from asr_billing.cabinet import selectors
from asr_billing.core.models import AuditEntry
from asr_billing.finance.models import Account
from asr_billing.subscribers.models import Subscriber
from asr_billing.tariffs.models import ChargeMethod, PartialMonth, Tariff
from tests.conftest import db_state


@pytest.fixture
def lines(cab_world, tariff):
    """Home 100 (the subscriber's) in the line Home with Home 300 and an archived Start 20;
    Business 500 in another line."""
    Tariff.objects.filter(pk=tariff.pk).update(web_line="Home")
    return {
        "home300": Tariff.objects.create(name="Home 300", fee=Decimal("850.00"),
                                         web_line="Home", rate_in=300000, ceil_in=300000),
        "start20": Tariff.objects.create(name="Start 20", fee=Decimal("350.00"),
                                         web_line="Home", is_active=False),
        "business": Tariff.objects.create(name="Business 500", fee=Decimal("6000.00"),
                                          web_line="Business"),
        **cab_world,
    }


def next_month(day: dt.date) -> dt.date:
    return Month.of(day).last + dt.timedelta(days=1)


def test_page_lists_the_line(logged_in, lines, django_assert_max_num_queries):
    with django_assert_max_num_queries(10):
        page = logged_in.get("/cabinet/tariff/")
    assert page.status_code == 200
    assert [t.name for t in page.context["choices"]] == ["Home 300"]  # not archived, not other
    text = page.content.decode()
    assert "Home 100" in text and "Home 300" in text and "Business 500" not in text
    assert page.context["starts"] == next_month(selectors.today())


def test_confirm_shows_day_and_cost_then_schedules(logged_in, lines, tariff,
                                                   django_assert_max_num_queries):
    subscriber, target = lines["subscriber"], lines["home300"]
    before = db_state()
    with django_assert_max_num_queries(10):
        page = logged_in.get(f"/cabinet/tariff/{target.pk}/")
    assert page.status_code == 200 and db_state() == before  # looking changes nothing
    starts = next_month(selectors.today())
    assert page.context["starts"] == starts
    assert page.context["first"] == tariff_choice.FirstCharge(Decimal("850.00"), starts, "month")
    assert "850.00" in page.content.decode()
    done = logged_in.post(f"/cabinet/tariff/{target.pk}/")
    assert done.status_code == 302 and done["Location"] == "/cabinet/tariff/"
    subscriber.refresh_from_db()
    assert (subscriber.tariff_next_id, subscriber.tariff_next_date) == (target.pk, starts)
    assert subscriber.tariff_id == tariff.pk  # the current tariff stays until then
    entry = AuditEntry.objects.filter(action="tariff_schedule").latest("pk")
    assert entry.actor == "cabinet:testlogin"
    shown = logged_in.get("/cabinet/tariff/")
    assert shown.context["scheduled"].pk == target.pk and shown.context["cancellable"]
    assert "Cancel the change" in shown.content.decode()


def test_cancel(logged_in, lines):
    subscriber, target = lines["subscriber"], lines["home300"]
    assert logged_in.post(f"/cabinet/tariff/{target.pk}/").status_code == 302
    done = logged_in.post("/cabinet/tariff/cancel/", follow=True)
    assert "The tariff change is cancelled" in done.content.decode()
    subscriber.refresh_from_db()
    assert subscriber.tariff_next_id is None and subscriber.tariff_next_date is None
    before = db_state()
    again = logged_in.post("/cabinet/tariff/cancel/", follow=True)
    assert "No tariff change is scheduled." in again.content.decode()
    assert db_state() == before


def test_operator_scheduled_change_is_not_the_subscribers_to_cancel(logged_in, lines):
    subscriber = lines["subscriber"]
    on = selectors.today() + dt.timedelta(days=5)
    Subscriber.objects.filter(pk=subscriber.pk).update(tariff_next=lines["business"],
                                                       tariff_next_date=on)
    page = logged_in.get("/cabinet/tariff/")
    assert not page.context["cancellable"]
    assert "Your provider arranged this change" in page.content.decode()
    before = db_state()
    refused = logged_in.post("/cabinet/tariff/cancel/", follow=True)
    assert "arranged by your provider" in refused.content.decode()
    assert db_state() == before


@pytest.mark.parametrize("target", ["business", "start20"])
def test_tariff_outside_the_line_is_refused(logged_in, lines, target):
    before = db_state()
    response = logged_in.post(f"/cabinet/tariff/{lines[target].pk}/")
    if target == "start20":
        assert response.status_code == 404  # archived: not offered at all
    else:
        assert response.status_code == 400
        assert response.context["error"] == "This tariff is not among those you can change to."
    assert db_state() == before


def test_same_tariff_refused(logged_in, lines, tariff):
    before = db_state()
    response = logged_in.post(f"/cabinet/tariff/{tariff.pk}/")
    assert response.status_code == 400
    assert response.context["error"] == "You are already on this tariff."
    assert db_state() == before


def test_unknown_tariff_is_404(logged_in, lines):
    before = db_state()
    assert logged_in.post("/cabinet/tariff/999999/").status_code == 404
    assert logged_in.get("/cabinet/tariff/abc/").status_code == 404
    assert db_state() == before


def test_no_line_no_change(logged_in, lines, tariff):
    Tariff.objects.filter(pk=tariff.pk).update(web_line="")
    page = logged_in.get("/cabinet/tariff/")
    assert page.context["choices"] == []
    assert "cannot be changed in the cabinet" in page.content.decode()
    before = db_state()
    response = logged_in.post(f"/cabinet/tariff/{lines['home300'].pk}/")
    assert response.status_code == 400 and "cannot be changed in the cabinet" in (
        response.context["error"])
    assert db_state() == before


def test_debt_refused_unless_allowed(logged_in, lines, tariff):
    subscriber = lines["subscriber"]
    Account.objects.filter(pk=subscriber.pk).update(balance=Decimal("-10.00"))
    before = db_state()
    response = logged_in.post(f"/cabinet/tariff/{lines['home300'].pk}/")
    assert response.status_code == 400 and "below zero" in response.context["error"]
    assert db_state() == before
    Tariff.objects.filter(pk=tariff.pk).update(web_change_in_debt=True)
    assert logged_in.post(f"/cabinet/tariff/{lines['home300'].pk}/").status_code == 302
    subscriber.refresh_from_db()
    assert subscriber.tariff_next_id == lines["home300"].pk


def test_change_from_tomorrow(logged_in, lines, config_edit):
    config_edit("cabinet", "tariff.change_from", "tomorrow")
    tomorrow = selectors.today() + dt.timedelta(days=1)
    page = logged_in.get(f"/cabinet/tariff/{lines['home300'].pk}/")
    assert page.context["starts"] == tomorrow
    assert logged_in.post(f"/cabinet/tariff/{lines['home300'].pk}/").status_code == 302
    subscriber = Subscriber.objects.get(pk=lines["subscriber"].pk)
    assert subscriber.tariff_next_date == tomorrow


def test_russian_page(page_client, logged_in, lines):
    from asr_billing.cabinet.web.auth import LANGUAGE_COOKIE

    page_client.cookies[LANGUAGE_COOKIE] = "ru"
    text = page_client.get(f"/cabinet/tariff/{lines['home300'].pk}/").content.decode()
    assert "Сменить тариф" in text and "Первое списание" in text


# --- The rule itself -------------------------------------------------------------------


def _tariff(**fields):
    return Tariff(name="T", fee=Decimal("900.00"), **fields)


def test_first_charge_monthly():
    july = dt.date(2026, 7, 1)
    assert tariff_choice.first_charge(_tariff(), july) == tariff_choice.FirstCharge(
        Decimal("900.00"), july, "month")
    late = _tariff(monthly_charge_day=10)
    assert tariff_choice.first_charge(late, july).on == dt.date(2026, 7, 10)
    mid = dt.date(2026, 6, 21)  # 10 of June's 30 days
    assert tariff_choice.first_charge(_tariff(), mid).amount == Decimal("300.00")
    full = _tariff(partial_month=PartialMonth.FULL)
    assert tariff_choice.first_charge(full, mid).amount == Decimal("900.00")


def test_first_charge_daily_and_spread():
    day = dt.date(2026, 6, 21)
    daily = _tariff(charge_method=ChargeMethod.DAILY)
    assert tariff_choice.first_charge(daily, day) == tariff_choice.FirstCharge(
        Decimal("900.00"), day, "day")
    spread = _tariff(charge_method=ChargeMethod.MONTHLY_SPREAD)
    assert tariff_choice.first_charge(spread, day).amount == Decimal("30.00")


def test_change_day_of_a_daily_tariff_is_tomorrow(db):
    today = dt.date(2026, 6, 21)
    daily = _tariff(charge_method=ChargeMethod.DAILY)
    assert tariff_choice.change_day(daily, today) == dt.date(2026, 6, 22)
    assert tariff_choice.change_day(_tariff(), today) == dt.date(2026, 7, 1)
    assert tariff_choice.change_day(_tariff(), dt.date(2026, 12, 31)) == dt.date(2027, 1, 1)
