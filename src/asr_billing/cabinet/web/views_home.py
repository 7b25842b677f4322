"""The cabinet's home page: money, how long it lasts, the tariff, the state with what to
do about it, the recommended payment and the balance chart. Every figure comes from the
selectors web_cabinet.get_user / user_info use (cabinet.selectors, finance.selectors)."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from django.shortcuts import render
from django.utils.translation import gettext as _

from asr_billing.billing.selectors import voluntary_block_current
from asr_billing.cabinet import selectors
from asr_billing.cabinet.web.auth import cabinet_page
from asr_billing.cabinet.web.chart import balance_svg, chart_facts

CHART_MONTHS = (3, 6, 12)


def months_before(day: date, months: int) -> date:
    """The day after the same day ``months`` months earlier (the chart shows whole
    months: 3 months up to 15 May start on 16 February)."""
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1])) + timedelta(
        days=1)


def chart_months(value) -> int:
    """3, 6 or 12 from the query string; anything else is the default 3."""
    try:
        months = int(value)
    except (TypeError, ValueError):
        return CHART_MONTHS[0]
    return months if months in CHART_MONTHS else CHART_MONTHS[0]


@cabinet_page
def home(request):
    session = request.cabinet
    subscriber = session.login.subscriber
    day = selectors.today()
    money = selectors.money_state(subscriber, day)
    block = voluntary_block_current(subscriber.pk, day)
    promised = selectors.promised_payment_open(subscriber.pk) if money.promised > 0 else None
    months = chart_months(request.GET.get("months"))
    days, operations = selectors.balance_history(
        subscriber_id=subscriber.pk, balance=money.balance,
        first=months_before(day, months), last=day)
    facts = chart_facts(days, operations)
    tariff = subscriber.tariff
    return render(request, "cabinet/home.html", {
        "nav": "home",
        "login": session.login,
        "subscriber": subscriber,
        "money": money,
        "lasts": selectors.lasts_until(subscriber, money),
        "states": selectors.subscriber_states(subscriber, block=block, promised=money.promised),
        "vblock": block,
        "promised": promised,
        "tariff": tariff,
        "next_charge": selectors.next_charge_date(tariff, day),
        "today": day,
        "months": months,
        "month_choices": CHART_MONTHS,
        "chart": balance_svg(days, facts, title=_("Balance for the last %(months)d months")
                             % {"months": months}),
        "chart_facts": facts,
    })
