"""The home page: the money figures are the ledger's and the selectors' that
web_cabinet.user_info answers, each state says what to do, the chart is the ledger's."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone

from asr_billing.billing.models import VoluntaryBlock
from asr_billing.cabinet import selectors
from asr_billing.cabinet.web.chart import chart_facts
from asr_billing.cabinet.web.views_home import chart_months, months_before
from asr_billing.finance.models import Account, Operation
from asr_billing.subscribers.models import Subscriber
from asr_billing.tariffs.models import ChargeMethod, Tariff


def figure(html: str, name: str) -> str:
    match = re.search(rf'data-figure="{name}"[^>]*>([^<]*)', html)
    assert match, name
    return match.group(1).strip()


def test_the_figures_are_the_ledgers(logged_in, cab_world):
    subscriber = cab_world["subscriber"]
    html = logged_in.get("/cabinet/").content.decode()
    ledger = Operation.objects.filter(account_id=subscriber.pk).aggregate(s=Sum("amount"))["s"]
    assert ledger == Decimal("290.67")
    assert figure(html, "balance") == "290.67\xa0RUB"
    assert figure(html, "credit") == "0.00\xa0RUB"
    money = selectors.money_state(subscriber, selectors.today())
    assert figure(html, "recommended") == f"{money.recommended_pay}\xa0RUB"
    assert money.recommended_pay == Decimal("309.33")  # 600.00 − 290.67
    assert figure(html, "tariff") == "Home 100"
    assert figure(html, "speed-in") == "100 Mbit/s"
    assert figure(html, "speed-out") == "50 Mbit/s"
    assert 'data-state="active"' in html


def test_the_same_numbers_as_web_cabinet_user_info(logged_in, cab_world, client):
    """One rule, two faces: the page's lasts-until date is user_info's enough_to_date."""
    from asr_billing.cabinet.web.chart import money_text  # noqa: F401 - same formatting

    html = logged_in.get("/cabinet/").content.decode()
    subscriber = cab_world["subscriber"]
    money = selectors.money_state(subscriber, selectors.today())
    lasts = selectors.lasts_until(subscriber, money)
    assert lasts.day == money.lasts.until and lasts.reason == ""
    assert figure(html, "lasts") == lasts.day.strftime("%m/%d/%Y")


def test_in_russian_numbers_and_dates_are_russian(logged_in, cab_world):
    logged_in.cookies["asr_cabinet_language"] = "ru"
    html = logged_in.get("/cabinet/").content.decode()
    assert '<html lang="ru">' in html
    assert figure(html, "balance") == "290,67\xa0руб."
    money = selectors.money_state(cab_world["subscriber"], selectors.today())
    assert figure(html, "lasts") == money.lasts.until.strftime("%d.%m.%Y")


def test_not_enough_money(logged_in, cab_world):
    Subscriber.objects.filter(pk=cab_world["subscriber"].pk).update(negbal=True)
    Account.objects.filter(pk=cab_world["subscriber"].pk).update(balance=Decimal("-10.50"))
    html = logged_in.get("/cabinet/").content.decode()
    assert 'data-state="negbal"' in html and 'data-state="active"' not in html
    assert "Pay at least 10.50\xa0RUB to turn it on." in html
    assert figure(html, "lasts") == "—"
    assert "The money has run out." in html


def test_blocked_by_the_isp(logged_in, cab_world, config_edit):
    Subscriber.objects.filter(pk=cab_world["subscriber"].pk).update(admin_blocked=True)
    html = logged_in.get("/cabinet/").content.decode()
    assert 'data-state="admin_blocked"' in html
    assert "Only your provider can lift this block." in html
    assert figure(html, "lasts") != "—"  # billing['charge.admin_blocked'] = yes: charged
    config_edit("billing", "charge.admin_blocked", "no")
    html = logged_in.get("/cabinet/").content.decode()
    assert figure(html, "lasts") == "—"
    assert "Nothing is charged while the ISP blocks the account." in html


def test_voluntary_block_and_promised_payment(logged_in, cab_world):
    subscriber = cab_world["subscriber"]
    today = selectors.today()
    VoluntaryBlock.objects.create(subscriber=subscriber, start_date=today,
                                  end_date=today + dt.timedelta(days=9), created_at=timezone.now())
    Subscriber.objects.filter(pk=subscriber.pk).update(voluntary_blocked=True)
    Account.objects.filter(pk=subscriber.pk).update(promised_amount=Decimal("300.00"))
    html = logged_in.get("/cabinet/").content.decode()
    assert 'data-state="voluntary_block"' in html and 'data-state="promised"' in html
    assert "A promised payment of 300.00\xa0RUB is in force." in html
    assert figure(html, "promised") == "300.00\xa0RUB"
    assert "During a voluntary block" in html


@pytest.mark.parametrize("method,fee,reason", [
    (ChargeMethod.ONCE, "100.00", "The tariff is paid once, not by the month or day."),
    (ChargeMethod.MONTHLY, "0.00", "The tariff has no fee."),
])
def test_no_date_with_a_reason(logged_in, cab_world, method, fee, reason):
    Tariff.objects.filter(pk=cab_world["subscriber"].tariff_id).update(
        charge_method=method, fee=Decimal(fee))
    html = logged_in.get("/cabinet/").content.decode()
    assert figure(html, "lasts") == "—"
    assert reason in html


def test_the_chart_walks_the_ledger_back_from_the_balance(cab_world):
    subscriber = cab_world["subscriber"]
    today = selectors.today()
    days, operations = selectors.balance_history(
        subscriber_id=subscriber.pk, balance=Decimal("290.67"),
        first=months_before(today, 3), last=today)
    assert operations == 3
    assert days[-1].balance == Decimal("290.67")
    assert days[0].balance == Decimal("0.00")
    assert sorted({d.balance for d in days}) == [Decimal("-100.00"), Decimal("0.00"),
                                                 Decimal("290.67"), Decimal("500.00")]
    facts = chart_facts(days, operations)
    assert (facts.lowest.balance, facts.highest.balance) == (Decimal("-100.00"),
                                                             Decimal("500.00"))


def test_the_chart_without_history(page_client, make_subscriber, make_login):
    make_login(make_subscriber(), "empty", "emptypsw")
    page_client.post("/cabinet/login/", {"login": "empty", "password": "emptypsw"})
    html = page_client.get("/cabinet/?months=12").content.decode()
    assert "There were no payments or charges in this time." in html
    assert '<title id="balance-chart-title">Balance for the last 12 months</title>' in html
    assert 'class="chart-line"' in html


@pytest.mark.parametrize("value,months", [("6", 6), ("12", 12), ("7", 3), ("x", 3),
                                          (None, 3), ("-1", 3), ("9" * 30, 3)])
def test_chart_months(value, months):
    assert chart_months(value) == months


def test_months_before():
    assert months_before(dt.date(2025, 5, 15), 3) == dt.date(2025, 2, 16)
    assert months_before(dt.date(2025, 5, 31), 3) == dt.date(2025, 3, 1)  # 28 Feb + 1
    assert months_before(dt.date(2025, 1, 10), 12) == dt.date(2024, 1, 11)


def test_the_home_page_costs_at_most_10_queries(logged_in, cab_world,
                                                django_assert_max_num_queries):
    Account.objects.filter(pk=cab_world["subscriber"].pk).update(promised_amount=Decimal("1"))
    with django_assert_max_num_queries(10):
        assert logged_in.get("/cabinet/?months=12").status_code == 200


def test_an_auto_login_page_costs_at_most_10_queries(page_client, cab_world,
                                                     django_assert_max_num_queries):
    with django_assert_max_num_queries(10):
        assert page_client.get("/cabinet/", REMOTE_ADDR="10.20.30.41").status_code == 200
