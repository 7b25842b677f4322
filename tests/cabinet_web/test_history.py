"""Payments and charges: the ledger's rows a page at a time, date filters (bad dates are
a message on the form and nothing else), the CSV download."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from asr_billing.cabinet import selectors
from asr_billing.cabinet.web.views_history import PER_PAGE, csv_columns
from asr_billing.finance.models import Operation
from tests.cabinet_web.conftest import post_charge


def amounts(html: str) -> list[str]:
    return re.findall(r'data-amount="([^"]+)"', html)


def test_all_rows_newest_first(logged_in, cab_world):
    response = logged_in.get("/cabinet/history/")
    html = response.content.decode()
    assert response.status_code == 200
    assert amounts(html) == ["390.67", "-600.00", "500.00"]
    assert "3 operations" in html
    assert re.search(r'data-figure="paid">890.67\xa0RUB<', html)
    assert re.search(r'data-figure="charged">600.00\xa0RUB<', html)


def test_filter_by_dates(logged_in, cab_world):
    today = selectors.today()
    first = (today - dt.timedelta(days=36)).isoformat()
    last = (today - dt.timedelta(days=20)).isoformat()
    html = logged_in.get(f"/cabinet/history/?first={first}&last={last}").content.decode()
    assert amounts(html) == ["-600.00"]
    assert "1 operation:" in html
    # Typed by hand, the Russian way.
    day = (today - dt.timedelta(days=10)).strftime("%d.%m.%Y")
    html = logged_in.get(f"/cabinet/history/?first={day}&last={day}").content.decode()
    assert amounts(html) == ["390.67"]


@pytest.mark.parametrize("query,message", [
    ("first=yesterday", "Enter a date such as 2025-01-31 or 31.01.2025."),
    ("first=2025-02-30", "Enter a date such as 2025-01-31 or 31.01.2025."),
    ("first=2025-03-01&last=2025-02-01", "The end date is before the start date."),
    ("last=9999-12-31", "Enter a date from 2000-01-01 to 2100-12-31."),
    ("first=1812-09-07", "Enter a date from 2000-01-01 to 2100-12-31."),
])
def test_bad_dates_are_a_message_on_the_form(logged_in, cab_world, query, message,
                                             django_assert_max_num_queries):
    with django_assert_max_num_queries(2):  # the session only: no ledger read
        response = logged_in.get(f"/cabinet/history/?{query}")
    html = response.content.decode()
    assert response.status_code == 400
    assert message in html
    assert 'aria-invalid="true"' in html
    assert "data-amount" not in html and "Download CSV" not in html
    csv_response = logged_in.get(f"/cabinet/history/csv/?{query}")
    assert csv_response.status_code == 400
    assert message in csv_response.content.decode()


def test_pages(logged_in, cab_world):
    subscriber = cab_world["subscriber"]
    start = timezone.now() - dt.timedelta(days=80)
    for i in range(PER_PAGE + 2):
        post_charge(subscriber, Decimal("1.00"), start + dt.timedelta(days=i))
    html = logged_in.get("/cabinet/history/").content.decode()
    assert len(amounts(html)) == PER_PAGE
    assert "Page 1 of 2" in html and 'rel="next"' in html and 'rel="prev"' not in html
    html = logged_in.get("/cabinet/history/?page=2").content.decode()
    assert amounts(html) == ["-1.00"] * 5  # 30 rows: 25 + 5, the oldest charges last
    assert 'rel="prev"' in html
    for junk in ("0", "x", "99", "-3"):
        page = logged_in.get(f"/cabinet/history/?page={junk}")
        assert page.status_code == 200


def test_the_csv_is_the_ledger_exactly(logged_in, cab_world):
    response = logged_in.get("/cabinet/history/csv/")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="payments-BILL0000001.csv"'
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0] == ["Date", "Type", "Amount", "Balance after", "Description", "Paid through",
                       "Reversed"]
    ledger = Operation.objects.filter(account_id=cab_world["subscriber"].pk).order_by(
        "op_date", "id")
    assert [r[2:4] for r in rows[1:]] == [[str(o.amount), str(o.balance_after)] for o in ledger]
    assert [r[0] for r in rows[1:]] == [
        timezone.localtime(o.op_date).strftime("%Y-%m-%d %H:%M:%S") for o in ledger]
    assert [r[1] for r in rows[1:]] == ["Payment", "Charge (act)", "Payment"]
    assert rows[1][5] == "Sberbank (OSMP)"


def test_the_csv_in_russian_with_dates(logged_in, cab_world):
    logged_in.cookies["asr_cabinet_language"] = "ru"
    today = selectors.today()
    first = (today - dt.timedelta(days=36)).isoformat()
    response = logged_in.get(f"/cabinet/history/csv/?first={first}&last={today.isoformat()}")
    assert response["Content-Disposition"] == (
        f'attachment; filename="payments-BILL0000001-{first}-{today.isoformat()}.csv"')
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode()[1:])))
    with translation.override("ru"):  # the Russian catalogue's words, whatever it has yet
        assert rows[0] == csv_columns()
    assert [r[2] for r in rows[1:]] == ["-600.00", "390.67"]


def test_the_history_page_costs_at_most_10_queries(logged_in, cab_world,
                                                   django_assert_max_num_queries):
    with django_assert_max_num_queries(10):
        assert logged_in.get("/cabinet/history/?first=2020-01-01").status_code == 200
    with django_assert_max_num_queries(10):
        response = logged_in.get("/cabinet/history/csv/")
        b"".join(response.streaming_content)


def test_another_subscribers_rows_are_not_shown(logged_in, cab_world, make_subscriber,
                                                operator):
    from asr_billing.finance.services import payment_register

    other = make_subscriber(name="Петров")
    payment_register(subscriber=other, amount=Decimal("77.00"), actor="test",
                     operator=operator, external_id="other")
    html = logged_in.get("/cabinet/history/").content.decode()
    assert "77.00" not in html
