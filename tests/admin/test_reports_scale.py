"""The reports' set-based reading (issue 14, docs/performance.md "Admin reports"): one
UNION ALL branch per local day or month with bounds worked out in Python — right across
daylight-saving changes —, reversals left out only where the range has one, the charges
and payments read from the covering (type, op_date, ...) index, and the dashboard's
subscribers by state from their index."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, time
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from asr_billing.core import monthly_reports, reports
from asr_billing.core.dashboard import dashboard
from asr_billing.finance.services import charge_post, operation_reverse, payment_register
from asr_billing.tariffs.models import Tariff

pytestmark = pytest.mark.django_db
ACTOR = "test"
# PostgreSQL chooses its plan by the tables' statistics: at a test's few rows it reads the
# table; the bench shows the index-only scans at 100,000 and 1,000,000 subscribers.
SQLITE_PLAN = pytest.mark.skipif(connection.vendor != "sqlite",
                                 reason="PostgreSQL plans by statistics (docs/performance.md)")
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")  # UTC+1, UTC+2 from 2025-03-30 02:00


def berlin(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=BERLIN)


def test_days_and_months_are_local_across_a_daylight_saving_change(make_subscriber,
                                                                    operator, tariff):
    a, b = make_subscriber("Абонент А"), make_subscriber("Абонент Б")
    with timezone.override(BERLIN):
        # 23:30 on March 29 is 22:30 UTC (winter time) ...
        payment_register(subscriber=a, amount=Decimal("1.00"), actor=ACTOR, operator=operator,
                         external_id="1", op_date=berlin(date(2025, 3, 29), 23, 30))
        # ... 00:30 on March 30 is 23:30 UTC on the 29th ...
        payment_register(subscriber=a, amount=Decimal("2.00"), actor=ACTOR, operator=operator,
                         external_id="2", op_date=berlin(date(2025, 3, 30), 0, 30))
        # ... and 23:30 on March 31, in summer time, is 21:30 UTC: still March.
        payment_register(subscriber=b, amount=Decimal("4.00"), actor=ACTOR, operator=operator,
                         external_id="3", op_date=berlin(date(2025, 3, 31), 23, 30))
        charge_post(subscriber=b, amount=Decimal("600.00"), actor=ACTOR, tariff=tariff,
                    period_start=date(2025, 3, 1), period_end=date(2025, 3, 31),
                    op_date=berlin(date(2025, 3, 31), 23, 30))
        charge_post(subscriber=a, amount=Decimal("600.00"), actor=ACTOR, tariff=tariff,
                    period_start=date(2025, 4, 1), period_end=date(2025, 4, 30),
                    op_date=berlin(date(2025, 4, 1), 0, 30))
        by_day = reports.payments_report(date_from=date(2025, 3, 29),
                                         date_to=date(2025, 3, 31), grouping=reports.DAY)
        by_month = reports.payments_report(date_from=date(2025, 3, 1),
                                           date_to=date(2025, 4, 30), grouping=reports.MONTH)
        charges = monthly_reports.charges_report(month_from=date(2025, 3, 1),
                                                 month_to=date(2025, 4, 1))
    assert [(row.period, row.total.count, row.total.amount) for row in by_day.rows] == [
        (date(2025, 3, 29), 1, Decimal("1.00")), (date(2025, 3, 30), 1, Decimal("2.00")),
        (date(2025, 3, 31), 1, Decimal("4.00"))]
    assert [(row.period, row.total.count) for row in by_month.rows] == [
        (date(2025, 3, 1), 3), (date(2025, 4, 1), 0)]
    assert [(row.period, row.total.amount, row.subscribers) for row in charges.rows] == [
        (date(2025, 3, 1), Decimal("600.00"), 1), (date(2025, 4, 1), Decimal("600.00"), 1)]


@pytest.fixture
def two_months(make_subscriber, tariff):
    """January: A and B charged; February: A, and B's charge reversed."""
    a, b = make_subscriber("Абонент А"), make_subscriber("Абонент Б")
    tz = timezone.get_current_timezone()
    for who in (a, b):
        charge_post(subscriber=who, amount=Decimal("600.00"), actor=ACTOR, tariff=tariff,
                    period_start=date(2025, 1, 1), period_end=date(2025, 1, 31),
                    op_date=datetime(2025, 1, 2, 12, tzinfo=tz))
    charge_post(subscriber=a, amount=Decimal("600.00"), actor=ACTOR, tariff=tariff,
                period_start=date(2025, 2, 1), period_end=date(2025, 2, 28),
                op_date=datetime(2025, 2, 2, 12, tzinfo=tz))
    wrong = charge_post(subscriber=b, amount=Decimal("600.00"), actor=ACTOR, tariff=tariff,
                        period_start=date(2025, 2, 1), period_end=date(2025, 2, 28),
                        op_date=datetime(2025, 2, 2, 12, tzinfo=tz)).operation
    # Reversed months later: the charge's own month is what counts.
    operation_reverse(operation=wrong, actor=ACTOR)
    return wrong


def test_a_reversal_is_looked_for_only_where_the_range_has_one(two_months):
    def report(month):
        with CaptureQueriesContext(connection) as captured:
            result = monthly_reports.charges_report(month_from=month, month_to=month)
        union = [q["sql"] for q in captured.captured_queries if "UNION ALL" in q["sql"]
                 or "GROUP BY" in q["sql"]]
        return result, union

    january, sql = report(date(2025, 1, 1))
    assert (january.grand.count, january.rows[0].subscribers) == (2, 2)
    assert not any("reverses_id" in text for text in sql)  # nothing reversed in January
    february, sql = report(date(2025, 2, 1))
    assert (february.grand.count, february.grand.amount, february.rows[0].subscribers) == (
        1, Decimal("600.00"), 1)
    assert any("reverses_id" in text for text in sql)


def test_the_mix_counts_subscribers_not_charges(two_months, make_subscriber):
    home200 = Tariff.objects.create(name="Home 200", fee=Decimal("900.00"))
    c = make_subscriber("Абонент В", tariff=home200)
    tz = timezone.get_current_timezone()
    # Two charges of C's in January (two periods of a daily tariff): one subscriber.
    for day in (3, 4):
        charge_post(subscriber=c, amount=Decimal("30.00"), actor=ACTOR, tariff=home200,
                    period_start=date(2025, 1, day), period_end=date(2025, 1, day),
                    op_date=datetime(2025, 1, day, 1, tzinfo=tz))
    mix = monthly_reports.mix_report(month_from=date(2025, 1, 1), month_to=date(2025, 2, 1))
    assert [t.name for t in mix.tariffs] == ["Home 100", "Home 200"]
    assert [(row.cells, row.total) for row in mix.rows] == [([2, 1], 3), ([1, 0], 1)]
    charges = monthly_reports.charges_report(month_from=date(2025, 1, 1),
                                             month_to=date(2025, 1, 1))
    assert [(c.count, c.amount) for c in charges.rows[0].cells] == [
        (2, Decimal("1200.00")), (2, Decimal("60.00"))]
    assert charges.rows[0].subscribers == 3


def _plan(sql: str, params) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        return "\n".join(str(row) for row in cursor.fetchall())


@SQLITE_PLAN
def test_the_charges_and_payments_are_read_from_the_covering_index(two_months, operator):
    from asr_billing.finance.models import Operation, OperationType

    queryset = Operation.objects.filter(type=OperationType.CHARGE)
    branch = (queryset.filter(op_date__gte=reports.local_start(date(2025, 1, 1)),
                              op_date__lt=reports.local_start(date(2025, 2, 1)))
              .values("tariff_id", "service_id")
              .annotate(n=reports.Count("*"), s=reports.Sum("amount"),
                        d=reports.Count("account_id", distinct=True)).order_by())
    assert "COVERING INDEX operation_type_date" in _plan(*branch.query.sql_with_params())
    payments = (Operation.objects.filter(type=OperationType.PAYMENT,
                                         op_date__gte=reports.local_start(date(2025, 1, 1)))
                .values("pay_operator_id").annotate(s=reports.Sum("amount")).order_by())
    assert "COVERING INDEX operation_type_date" in _plan(*payments.query.sql_with_params())


@SQLITE_PLAN
def test_the_dashboard_counts_states_from_their_index(isp):
    from asr_billing.subscribers.models import Subscriber

    states = (Subscriber.objects.values("negbal", "admin_blocked", "voluntary_blocked")
              .annotate(n=reports.Count("*")).order_by())
    assert "COVERING INDEX subscriber_states" in _plan(*states.query.sql_with_params())


def test_the_dashboard_adds_the_days_before_today_and_today(admin_user, isp, operator):
    now = timezone.localtime()
    before = dashboard(admin_user, now=now).payments_total
    if now.day > 1:
        earlier = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        payment_register(subscriber=isp.offline, amount=Decimal("7.25"), actor=ACTOR,
                         operator=operator, external_id="month", op_date=earlier)
    payment_register(subscriber=isp.offline, amount=Decimal("2.50"), actor=ACTOR,
                     external_id="", op_date=now)
    after = dashboard(admin_user, now=timezone.localtime()).payments_total
    earlier_amount = Decimal("7.25") if now.day > 1 else Decimal("0")
    assert after.month_amount - before.month_amount == earlier_amount + Decimal("2.50")
    assert after.today_amount - before.today_amount == Decimal("2.50")
    assert after.month_count - before.month_count == (2 if now.day > 1 else 1)
