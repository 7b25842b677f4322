"""The admin's reports (core/reports.py, core/admin_reports.py): payments by period and
operator, debtors by age — figures against a known ledger, the exact CSV, the chart as
well-formed SVG, bad filters refused with nothing changed, and only for who may see."""

from __future__ import annotations

import sqlite3
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group as Role
from django.contrib.auth.models import Permission
from django.db import connection
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone

from asr_billing.core import reports
from asr_billing.core.roles import CASHIER, SUPPORT, roles_ensure
from asr_billing.finance.models import PaymentOperator
from asr_billing.finance.services import charge_post, operation_reverse, payment_register
from asr_billing.subscribers.models import Group
from tests.admin.conftest import local
from tests.conftest import db_state

pytestmark = pytest.mark.django_db
PAYMENTS = reverse("admin:asr_report_payments")
DEBTORS = reverse("admin:asr_report_debtors")
ACTOR = "test"


@pytest.fixture
def ledger(make_subscriber, operator, group):
    """Payments in January and February 2025 by two operators and none; one reversed; one
    in another group."""
    other_op = PaymentOperator.objects.create(code="QIWI", name="QIWI терминалы")
    other_group = Group.objects.create(name="Другая группа")
    a = make_subscriber("Абонент А")
    b = make_subscriber("Абонент Б")
    c = make_subscriber("Абонент В", group=other_group)
    # 23:30 local on the last day of January: January, though it is 20:30 UTC ...
    payment_register(subscriber=a, amount=Decimal("100.00"), actor=ACTOR, operator=operator,
                     external_id="1", op_date=local(date(2025, 1, 31), 23, 30))
    # ... and 00:10 local on the first of February is February (21:10 UTC on Jan 31).
    payment_register(subscriber=b, amount=Decimal("200.00"), actor=ACTOR, operator=operator,
                     external_id="2", op_date=local(date(2025, 2, 1), 0, 10))
    payment_register(subscriber=a, amount=Decimal("50.50"), actor=ACTOR, operator=other_op,
                     external_id="3", op_date=local(date(2025, 2, 1)))
    wrong = payment_register(subscriber=b, amount=Decimal("30.00"), actor=ACTOR,
                             operator=operator, external_id="4",
                             op_date=local(date(2025, 2, 15))).operation
    operation_reverse(operation=wrong, actor=ACTOR)
    payment_register(subscriber=b, amount=Decimal("10.00"), actor=ACTOR,
                     op_date=local(date(2025, 2, 15)))
    payment_register(subscriber=c, amount=Decimal("1000.00"), actor=ACTOR, operator=operator,
                     external_id="5", op_date=local(date(2025, 2, 10)))
    return {"operator": operator, "other_op": other_op, "group": group,
            "other_group": other_group}


def test_payments_by_month_match_the_ledger(ledger):
    report = reports.payments_report(date_from=date(2025, 1, 1), date_to=date(2025, 2, 28),
                                     grouping=reports.MONTH)
    assert [column.code for column in report.operators] == ["QIWI", "SBERBANK_OSMP", ""]
    assert [row.period for row in report.rows] == [date(2025, 1, 1), date(2025, 2, 1)]
    january, february = report.rows
    assert [(c.count, c.amount) for c in january.cells] == [
        (0, Decimal("0.00")), (1, Decimal("100.00")), (0, Decimal("0.00"))]
    # the reversed 30.00 is not counted
    assert [(c.count, c.amount) for c in february.cells] == [
        (1, Decimal("50.50")), (2, Decimal("1200.00")), (1, Decimal("10.00"))]
    assert (february.total.count, february.total.amount) == (4, Decimal("1260.50"))
    assert [(c.count, c.amount) for c in report.totals] == [
        (1, Decimal("50.50")), (3, Decimal("1300.00")), (1, Decimal("10.00"))]
    assert (report.grand.count, report.grand.amount) == (5, Decimal("1360.50"))


def test_payments_by_month_count_only_the_days_of_the_range(ledger):
    """A range that starts and ends inside months: its first and last months count from
    and to its own days (2025-01-31 23:30 and 2025-02-01 00:10 local are in, Feb 10 and
    the reversed Feb 15 are out)."""
    report = reports.payments_report(date_from=date(2025, 1, 31), date_to=date(2025, 2, 1),
                                     grouping=reports.MONTH)
    assert [row.period for row in report.rows] == [date(2025, 1, 1), date(2025, 2, 1)]
    assert [(row.total.count, row.total.amount) for row in report.rows] == [
        (1, Decimal("100.00")), (2, Decimal("250.50"))]
    assert (report.grand.count, report.grand.amount) == (3, Decimal("350.50"))


def test_payments_by_day_with_filters(ledger):
    report = reports.payments_report(date_from=date(2025, 1, 31), date_to=date(2025, 2, 2),
                                     grouping=reports.DAY, group=ledger["group"])
    assert [row.period for row in report.rows] == [
        date(2025, 1, 31), date(2025, 2, 1), date(2025, 2, 2)]
    assert [(row.total.count, row.total.amount) for row in report.rows] == [
        (1, Decimal("100.00")), (2, Decimal("250.50")), (0, Decimal("0.00"))]
    only = reports.payments_report(date_from=date(2025, 1, 1), date_to=date(2025, 2, 28),
                                   grouping=reports.MONTH, group=ledger["other_group"],
                                   operator=ledger["operator"])
    assert (only.grand.count, only.grand.amount) == (1, Decimal("1000.00"))


@pytest.fixture
def stock_sqlite_limit():
    """SQLite's default limit of parameters (32,766; Debian builds it with 250,000)."""
    if connection.vendor != "sqlite":
        yield
        return
    connection.ensure_connection()
    before = connection.connection.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 32_766)
    yield
    connection.connection.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, before)


def test_a_year_by_day_for_a_group_with_hundreds_of_subgroups(make_subscriber, operator,
                                                              group, stock_sqlite_limit):
    """Each day's branch repeats the group filter's ids: 366 days × 200 subgroups is more
    parameters than a stock SQLite (32,766) takes in one statement, so the report runs the
    branches in batches instead of failing (PostgreSQL: Django binds on the client side,
    the limit does not apply, the batches are the same)."""
    Group.objects.bulk_create(Group(name=f"Подгруппа {n}", parent=group) for n in range(200))
    deepest = Group.objects.filter(parent=group).order_by("-pk").first()
    inside = make_subscriber("Абонент в подгруппе", group=deepest)
    outside = make_subscriber("Абонент вне группы", group=Group.objects.create(name="Другая"))
    for n, (subscriber, day) in enumerate([(inside, date(2024, 1, 1)),
                                           (inside, date(2024, 12, 31)),
                                           (outside, date(2024, 6, 1))]):
        payment_register(subscriber=subscriber, amount=Decimal("10.00") * (n + 1),
                         actor=ACTOR, operator=operator, external_id=f"sub-{n}",
                         op_date=local(day, 12))
    report = reports.payments_report(date_from=date(2024, 1, 1), date_to=date(2024, 12, 31),
                                     grouping=reports.DAY, group=group)
    assert len(report.rows) == 366
    paid = {row.period: row.total.amount for row in report.rows if row.total.count}
    assert paid == {date(2024, 1, 1): Decimal("10.00"), date(2024, 12, 31): Decimal("20.00")}
    assert (report.grand.count, report.grand.amount) == (2, Decimal("30.00"))


def test_payments_page_and_chart(admin_client, ledger, en):
    page = admin_client.get(PAYMENTS, {"date_from": "2025-01-01", "date_to": "2025-02-28",
                                       "grouping": "month"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "1,360.50 (5)" in html or "1360.50 (5)" in html
    svg = html[html.index('<svg xmlns="http://www.w3.org/2000/svg" class="asr-chart"'):]
    svg = svg[:svg.index("</svg>") + len("</svg>")]
    root = ET.fromstring(svg)  # noqa: S314 - well-formed: our own page
    bars = root.findall("{http://www.w3.org/2000/svg}rect[@class='bar']")
    assert len(bars) == 4  # January: one operator; February: three
    titles = [bar.find("{http://www.w3.org/2000/svg}title").text for bar in bars]
    assert "2025-01 — SBERBANK_OSMP: 100.00" in titles


def test_payments_csv_is_exact_and_streams(admin_client, ledger, en):
    response = admin_client.get(PAYMENTS, {"date_from": "2025-01-01", "date_to": "2025-02-28",
                                           "grouping": "month", "format": "csv"})
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "payments-20250101-20250228.csv" in response["Content-Disposition"]
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body == (
        "\ufeffperiod;operator code;payment operator;count;amount\r\n"
        "2025-01;SBERBANK_OSMP;Sberbank (OSMP);1;100.00\r\n"
        "2025-02;;;1;10.00\r\n"
        "2025-02;QIWI;QIWI терминалы;1;50.50\r\n"
        "2025-02;SBERBANK_OSMP;Sberbank (OSMP);2;1200.00\r\n"
    )


def test_csv_in_russian_has_decimal_commas(admin_client, ledger):
    response = admin_client.get(PAYMENTS, {"date_from": "2025-01-01", "date_to": "2025-01-31",
                                           "grouping": "month", "format": "csv"})
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.splitlines()[1] == "2025-01;SBERBANK_OSMP;Sberbank (OSMP);1;100,00"


@pytest.mark.parametrize(("query", "message"), [
    ({"date_from": "2025-02-01", "date_to": "2025-01-01", "grouping": "day"},
     "The start date is after the end date."),
    ({"date_from": "yesterday", "date_to": "2025-01-01", "grouping": "day"},
     "Enter a valid date."),
    ({"date_from": "2025-01-01", "date_to": "2025-01-02", "grouping": "week"},
     "Select a valid choice. week is not one of the available choices."),
    ({"date_from": "2020-01-01", "date_to": "2025-01-01", "grouping": "day"},
     "The range is too long: at most 366 days by day, ten years by month."),
])
def test_bad_filters_are_refused(admin_client, ledger, en, query, message):
    before = db_state()
    page = admin_client.get(PAYMENTS, query)
    assert page.status_code == 200
    assert message in page.content.decode().replace("&#x27;", "'")
    assert 'class="asr-chart"' not in page.content.decode()
    response = admin_client.get(PAYMENTS, {**query, "format": "csv"})
    assert response.status_code == 400
    assert response.content.decode() == message + "\n"
    assert db_state() == before


def test_a_month_long_day_range_is_allowed_by_month_for_years(admin_client, ledger, en):
    response = admin_client.get(PAYMENTS, {"date_from": "2020-01-01", "date_to": "2025-12-31",
                                           "grouping": "month"})
    assert response.status_code == 200
    assert 'class="asr-chart"' in response.content.decode()


@pytest.fixture
def debts(make_subscriber, tariff):
    """Debtors of known age: A (>90 days, 200.00), B (31-90, 50.00), C (0-7 after being
    back above zero, 30.00), D (8 days exactly, 20.00); E is in credit."""
    today = timezone.localdate()

    def day(n, hour=12):
        return local(today - timedelta(days=n), hour)

    def charge(subscriber, amount, when, month):
        charge_post(subscriber=subscriber, amount=Decimal(amount), actor=ACTOR, tariff=tariff,
                    period_start=date(2024, month, 1), period_end=date(2024, month, 28),
                    op_date=when)

    def pay(subscriber, amount, when):
        payment_register(subscriber=subscriber, amount=Decimal(amount), actor=ACTOR,
                         op_date=when)

    a, b, c, d, e = (make_subscriber(f"Должник {n}") for n in "ABCDE")
    pay(a, "100.00", day(100))
    charge(a, "300.00", day(95), 1)
    charge(b, "50.00", day(40), 1)
    charge(c, "100.00", day(20), 1)
    pay(c, "150.00", day(10))
    charge(c, "80.00", day(3), 2)
    charge(d, "20.00", day(8, hour=0), 1)
    pay(e, "10.00", day(1))
    return a, b, c, d, e


def test_debtors_by_age_match_the_ledger(debts):
    a, b, c, d, _e = debts
    buckets, total = reports.debtors_summary()
    assert [(x.low, x.high, x.count, x.debt) for x in buckets] == [
        (0, 7, 1, Decimal("30.00")), (8, 30, 1, Decimal("20.00")),
        (31, 90, 1, Decimal("50.00")), (91, None, 1, Decimal("200.00"))]
    assert (total.count, total.debt) == (4, Decimal("300.00"))
    today = timezone.localdate()
    rows = [(acc.pk, acc.balance, reports.age_days(acc.since, today))
            for acc in reports.debtors_queryset()]
    assert rows == [(a.pk, Decimal("-200.00"), 95), (b.pk, Decimal("-50.00"), 40),
                    (c.pk, Decimal("-30.00"), 3), (d.pk, Decimal("-20.00"), 8)]


def test_debtors_group_filter(debts, make_subscriber, tariff):
    other = Group.objects.create(name="Другая")
    x = make_subscriber("Другой должник", group=other)
    charge_post(subscriber=x, amount=Decimal("5.00"), actor=ACTOR, tariff=tariff,
                period_start=date(2024, 1, 1), period_end=date(2024, 1, 31))
    _buckets, total = reports.debtors_summary(group=other)
    assert (total.count, total.debt) == (1, Decimal("5.00"))
    assert [acc.pk for acc in reports.debtors_queryset(group=other)] == [x.pk]


def test_debtors_page_csv_and_chart(admin_client, debts, en):
    a, b, c, d, _e = debts
    html = admin_client.get(DEBTORS).content.decode()
    assert "over 90 days" in html and "8–30 days" in html
    svg = html[html.index('<svg xmlns="http://www.w3.org/2000/svg" class="asr-chart"'):]
    root = ET.fromstring(svg[:svg.index("</svg>") + 6])  # noqa: S314
    assert len(root.findall("{http://www.w3.org/2000/svg}rect[@class='bar']")) == 4
    response = admin_client.get(DEBTORS, {"format": "csv"})
    assert isinstance(response, StreamingHttpResponse)
    today = timezone.localdate()
    lines = b"".join(response.streaming_content).decode("utf-8").split("\r\n")
    assert lines[0] == "\ufeffcontract number;name;group;debt;below zero since;days"
    since = {n: (today - timedelta(days=n)).isoformat() for n in (95, 40, 3, 8)}
    assert lines[1:] == [
        f"{a.contract_number};Должник A;Test group;200.00;{since[95]};95",
        f"{b.contract_number};Должник B;Test group;50.00;{since[40]};40",
        f"{c.contract_number};Должник C;Test group;30.00;{since[3]};3",
        f"{d.contract_number};Должник D;Test group;20.00;{since[8]};8",
        "",
    ]


def test_debtors_bad_group_is_refused(admin_client, debts, en):
    response = admin_client.get(DEBTORS, {"group": "99999", "format": "csv"})
    assert response.status_code == 400
    assert response.content.decode().startswith("Select a valid choice.")
    assert admin_client.get(DEBTORS, {"group": "x"}).status_code == 200


def test_debtors_are_paged(admin_client, make_subscriber, tariff, en, monkeypatch):
    from asr_billing.core import admin_reports

    monkeypatch.setattr(admin_reports, "DEBTORS_PER_PAGE", 2)
    for n in range(3):
        charge_post(subscriber=make_subscriber(f"D{n}"), amount=Decimal(10 + n), actor=ACTOR,
                    tariff=tariff, period_start=date(2024, 1, 1), period_end=date(2024, 1, 31))
    html = admin_client.get(DEBTORS, {"p": "2"}).content.decode()
    assert "page 2 of 2" in html and ">D0<" in html and ">D2<" not in html


def test_staff_without_permission_get_403(client, django_user_model, ledger):
    user = django_user_model.objects.create_user("viewer", password="pw-viewer-1",
                                                 is_staff=True)
    client.force_login(user)
    assert client.get(PAYMENTS).status_code == 403
    assert client.get(DEBTORS).status_code == 403
    assert client.get(PAYMENTS, {"format": "csv", "date_from": "2025-01-01",
                                 "date_to": "2025-01-31", "grouping": "day"}).status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="view_subscriber"))
    user = django_user_model.objects.get(pk=user.pk)
    client.force_login(user)
    assert client.get(DEBTORS).status_code == 200
    assert client.get(PAYMENTS).status_code == 403
    index = client.get(reverse("admin:index")).content.decode()
    assert DEBTORS in index and PAYMENTS not in index


def test_roles(client, django_user_model, ledger):
    roles_ensure()
    cashier = django_user_model.objects.create_user("cashier", is_staff=True)
    cashier.groups.add(Role.objects.get(name=CASHIER))
    support = django_user_model.objects.create_user("support", is_staff=True)
    support.groups.add(Role.objects.get(name=SUPPORT))
    client.force_login(cashier)
    assert client.get(PAYMENTS).status_code == 200
    assert client.get(DEBTORS).status_code == 200
    client.force_login(support)  # moves no money, but sees the ledger (core/roles.py)
    assert client.get(PAYMENTS).status_code == 200
    assert client.get(DEBTORS).status_code == 200
    support.groups.clear()
    support.user_permissions.add(Permission.objects.get(codename="view_subscriber"))
    client.force_login(support)
    assert client.get(PAYMENTS).status_code == 403


def test_not_staff_is_sent_to_login(client, django_user_model):
    user = django_user_model.objects.create_user("nobody", password="pw-nobody-1")
    client.force_login(user)
    response = client.get(PAYMENTS)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_report_pages_take_few_queries(admin_client, ledger, debts,
                                       django_assert_max_num_queries):
    with django_assert_max_num_queries(15):
        admin_client.get(PAYMENTS, {"date_from": "2025-01-01", "date_to": "2025-02-28",
                                    "grouping": "day"})
    with django_assert_max_num_queries(15):
        admin_client.get(DEBTORS)


def test_chart_escapes_text():
    from asr_billing.core.svg_chart import bar_chart

    svg = bar_chart(["<a&b>"], [("x\"<y>", [Decimal("5")])], title="T & <t>")
    root = ET.fromstring(str(svg))  # noqa: S314
    assert root.find("{http://www.w3.org/2000/svg}title").text == "T & <t>"
    assert bar_chart([], [], title="empty").startswith("<svg")
