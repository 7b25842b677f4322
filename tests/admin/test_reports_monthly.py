"""The admin's monthly reports (core/monthly_reports.py, core/admin_monthly_reports.py):
charges by tariff and service with ARPU, subscriber movement, tariff mix — figures against
a known ledger, the exact CSV, the chart as well-formed SVG, bad filters refused with
nothing changed, and only for who may see."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone

from asr_billing.billing.models import VoluntaryBlock
from asr_billing.billing.services import tariff_change_now
from asr_billing.core import monthly_reports as reports
from asr_billing.finance.services import charge_post, operation_reverse
from asr_billing.subscribers.models import Group, Subscriber
from asr_billing.tariffs.models import Service, Tariff
from tests.admin.conftest import local
from tests.conftest import db_state

pytestmark = pytest.mark.django_db
CHARGES = reverse("admin:asr_report_charges")
MOVEMENT = reverse("admin:asr_report_movement")
MIX = reverse("admin:asr_report_mix")
ACTOR = "test"
SVG = "{http://www.w3.org/2000/svg}"
JAN, FEB, MAR = date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1)


@pytest.fixture
def charges(make_subscriber, tariff, group):
    """January: A, B, D on Home 100 (D in another group), B's static IP; C's January charge
    reversed. February: A and B on Home 100, B and C (a subgroup) on Home 200."""
    home200 = Tariff.objects.create(name="Home 200", fee=Decimal("900.00"))
    static = Service.objects.create(name="Static IP", fee=Decimal("100.00"))
    child = Group.objects.create(name="Подгруппа", parent=group)
    other = Group.objects.create(name="Другая группа")
    a, b = make_subscriber("Абонент А"), make_subscriber("Абонент Б")
    c = make_subscriber("Абонент В", group=child, tariff=home200)
    d = make_subscriber("Абонент Г", group=other)

    def charge(subscriber, amount, when, period, **what):
        return charge_post(subscriber=subscriber, amount=Decimal(amount), actor=ACTOR,
                           period_start=period, period_end=period.replace(day=28),
                           op_date=when, **what).operation

    # 23:30 local on January 31 is January (20:30 UTC) ...
    charge(a, "600.00", local(date(2025, 1, 31), 23, 30), JAN, tariff=tariff)
    # ... and 00:10 local on February 1 is February (21:10 UTC on January 31).
    charge(a, "600.00", local(FEB, 0, 10), FEB, tariff=tariff)
    charge(b, "600.00", local(date(2025, 1, 15)), JAN, tariff=tariff)
    charge(b, "100.00", local(date(2025, 1, 15)), JAN, service=static)
    charge(b, "300.00", local(FEB), FEB, tariff=tariff)
    charge(b, "900.00", local(date(2025, 2, 10)), date(2025, 2, 15), tariff=home200)
    wrong = charge(c, "900.00", local(date(2025, 1, 5)), JAN, tariff=home200)
    operation_reverse(operation=wrong, actor=ACTOR)
    charge(c, "900.00", local(date(2025, 2, 5)), FEB, tariff=home200)
    charge(d, "600.00", local(date(2025, 1, 20)), JAN, tariff=tariff)
    return {"group": group, "child": child, "other": other}


def cells(row):
    return [(cell.count, cell.amount) for cell in row.cells]


def test_charges_and_arpu_match_the_ledger(charges):
    report = reports.charges_report(month_from=JAN, month_to=date(2025, 2, 1))
    assert [(c.kind, c.name) for c in report.columns] == [
        ("tariff", "Home 100"), ("tariff", "Home 200"), ("service", "Static IP")]
    january, february = report.rows
    assert (january.period, february.period) == (JAN, FEB)
    # C's reversed January charge is not counted
    assert cells(january) == [(3, Decimal("1800.00")), (0, Decimal("0.00")),
                              (1, Decimal("100.00"))]
    assert (january.total.count, january.total.amount) == (4, Decimal("1900.00"))
    assert (january.subscribers, january.arpu) == (3, Decimal("633.33"))
    assert cells(february) == [(2, Decimal("900.00")), (2, Decimal("1800.00")),
                               (0, Decimal("0.00"))]
    assert (february.subscribers, february.arpu) == (3, Decimal("900.00"))
    assert [(c.count, c.amount) for c in report.totals] == [
        (5, Decimal("2700.00")), (2, Decimal("1800.00")), (1, Decimal("100.00"))]
    assert (report.grand.count, report.grand.amount) == (8, Decimal("4600.00"))
    assert (report.subscriber_months, report.arpu) == (6, Decimal("766.67"))


def test_charges_group_filter_takes_subgroups(charges):
    report = reports.charges_report(month_from=JAN, month_to=date(2025, 3, 31),
                                    group=charges["group"])
    assert [(row.period, row.total.amount, row.subscribers, row.arpu) for row in report.rows] == [
        (JAN, Decimal("1300.00"), 2, Decimal("650.00")),
        (FEB, Decimal("2700.00"), 3, Decimal("900.00")),  # C is in a subgroup
        (MAR, Decimal("0.00"), 0, None)]
    only = reports.charges_report(month_from=JAN, month_to=FEB, group=charges["other"])
    assert (only.grand.count, only.grand.amount, only.arpu) == (1, Decimal("600.00"),
                                                                Decimal("600.00"))


def test_tariff_mix_matches_the_ledger(charges):
    report = reports.mix_report(month_from=JAN, month_to=MAR)
    assert [t.name for t in report.tariffs] == ["Home 100", "Home 200"]
    # B moved to Home 200 within February: under both tariffs, once in the total
    assert [(row.period, row.cells, row.total) for row in report.rows] == [
        (JAN, [3, 0], 3), (FEB, [2, 2], 3), (MAR, [0, 0], 0)]
    child = reports.mix_report(month_from=JAN, month_to=FEB, group=charges["child"])
    assert [t.name for t in child.tariffs] == ["Home 200"]
    assert [(row.cells, row.total) for row in child.rows] == [([0], 0), ([1], 1)]


def svg_bars(html: str) -> list:
    svg = html[html.index('<svg xmlns="http://www.w3.org/2000/svg" class="asr-chart"'):]
    root = ET.fromstring(svg[:svg.index("</svg>") + len("</svg>")])  # noqa: S314 - our page
    return root.findall(f"{SVG}rect[@class='bar']")


def test_charges_page_chart_and_csv(admin_client, charges, en):
    page = admin_client.get(CHARGES, {"month_from": "2025-01", "month_to": "2025-02"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "633.33" in html and "766.67" in html
    bars = svg_bars(html)
    assert len(bars) == 4  # January: Home 100, Static IP; February: Home 100, Home 200
    titles = [bar.find(f"{SVG}title").text for bar in bars]
    assert "2025-01 — Static IP: 100.00" in titles
    response = admin_client.get(CHARGES, {"month_from": "2025-01", "month_to": "2025-02",
                                          "format": "csv"})
    assert isinstance(response, StreamingHttpResponse)
    assert "charges-202501-202502.csv" in response["Content-Disposition"]
    assert b"".join(response.streaming_content).decode("utf-8") == (
        "\ufeffmonth;kind;tariff or service;charges;subscribers;amount;ARPU\r\n"
        "2025-01;tariff;Home 100;3;3;1800.00;\r\n"
        "2025-01;service;Static IP;1;1;100.00;\r\n"
        "2025-01;total;;4;3;1900.00;633.33\r\n"
        "2025-02;tariff;Home 100;2;2;900.00;\r\n"
        "2025-02;tariff;Home 200;2;2;1800.00;\r\n"
        "2025-02;total;;4;3;2700.00;900.00\r\n"
    )


def test_charges_csv_in_russian_has_decimal_commas(admin_client, charges):
    response = admin_client.get(CHARGES, {"month_from": "2025-01", "month_to": "2025-01",
                                          "format": "csv"})
    lines = b"".join(response.streaming_content).decode("utf-8").splitlines()
    assert lines[3].endswith(";4;3;1900,00;633,33")


def test_mix_page_chart_and_csv(admin_client, charges, en):
    html = admin_client.get(MIX, {"month_from": "2025-01", "month_to": "2025-03"}
                            ).content.decode()
    assert len(svg_bars(html)) == 3
    response = admin_client.get(MIX, {"month_from": "2025-01", "month_to": "2025-03",
                                      "format": "csv"})
    assert b"".join(response.streaming_content).decode("utf-8") == (
        "\ufeffmonth;tariff;subscribers\r\n"
        "2025-01;Home 100;3\r\n"
        "2025-02;Home 100;2\r\n"
        "2025-02;Home 200;2\r\n"
    )


@pytest.fixture
def movement(make_subscriber, tariff, group):
    """S1 connected in January, its tariff removed on February 15 and given back on March 4;
    S2 connected in February, S3 created at 00:30 local on February 1 with no connection
    day; S4 (another group) connected in December. Voluntary blocks: S2 January 25 – February
    5 and March 10–20; S3 February 10 – April 30 lifted on February 20; S1's March block
    cancelled before it began; S4 all January."""
    other = Group.objects.create(name="Другая группа")
    s1 = make_subscriber("S1", connected_on=date(2025, 1, 10))
    s2 = make_subscriber("S2", connected_on=date(2025, 2, 3))
    s3 = make_subscriber("S3")
    Subscriber.objects.filter(pk=s3.pk).update(created_at=local(FEB, 0, 30))
    s4 = make_subscriber("S4", group=other, connected_on=date(2024, 12, 20))
    with time_machine.travel(local(date(2025, 2, 14)), tick=False):
        tariff_change_now(subscriber=s1, tariff=None, actor=ACTOR)
    with time_machine.travel(local(date(2025, 3, 3)), tick=False):
        tariff_change_now(subscriber=Subscriber.objects.get(pk=s1.pk), tariff=tariff,
                          actor=ACTOR)

    def block(subscriber, start, end, ended=None):
        VoluntaryBlock.objects.create(subscriber=subscriber, start_date=start, end_date=end,
                                      ended_at=ended)

    block(s2, date(2025, 1, 25), date(2025, 2, 5))
    block(s2, date(2025, 3, 10), date(2025, 3, 20))
    block(s3, date(2025, 2, 10), date(2025, 4, 30), ended=local(date(2025, 2, 20)))
    block(s1, date(2025, 3, 20), date(2025, 3, 30), ended=local(date(2025, 3, 5)))
    block(s4, JAN, date(2025, 1, 31))
    return {"group": group, "other": other}


def test_movement_matches_the_records(movement):
    report = reports.movement_report(month_from=JAN, month_to=date(2025, 4, 30))
    assert [(r.period, r.connected, r.disconnected, r.reconnected, r.net, r.on_block)
            for r in report.rows] == [
        (JAN, 1, 0, 0, 1, 2), (FEB, 2, 1, 0, 1, 2), (MAR, 0, 0, 1, 1, 1),
        (date(2025, 4, 1), 0, 0, 0, 0, 0)]
    total = report.total
    assert (total.connected, total.disconnected, total.reconnected, total.net) == (3, 1, 1, 3)
    mine = reports.movement_report(month_from=date(2024, 12, 1), month_to=JAN,
                                   group=movement["other"])
    assert [(r.connected, r.on_block) for r in mine.rows] == [(1, 0), (0, 1)]


def test_movement_page_chart_and_csv(admin_client, movement, en):
    html = admin_client.get(MOVEMENT, {"month_from": "2025-01", "month_to": "2025-03"}
                            ).content.decode()
    bars = svg_bars(html)
    # grouped, not stacked: January 2 bars, February 3, March 2
    assert len(bars) == 7
    february = [bar for bar in bars if bar.find(f"{SVG}title").text.startswith("2025-02")]
    assert len({bar.get("x") for bar in february}) == 3
    response = admin_client.get(MOVEMENT, {"month_from": "2025-01", "month_to": "2025-03",
                                           "format": "csv"})
    assert "movement-202501-202503.csv" in response["Content-Disposition"]
    assert b"".join(response.streaming_content).decode("utf-8") == (
        "\ufeffmonth;connected;disconnected;reconnected;net;on voluntary block\r\n"
        "2025-01;1;0;0;1;2\r\n"
        "2025-02;2;1;0;1;2\r\n"
        "2025-03;0;0;1;1;1\r\n"
    )


@pytest.mark.parametrize("url", [CHARGES, MOVEMENT, MIX])
@pytest.mark.parametrize(("query", "message"), [
    ({"month_from": "2025-03", "month_to": "2025-01"},
     "The start month is after the end month."),
    ({"month_from": "2025-13", "month_to": "2025-01"}, "Enter a month as YYYY-MM."),
    ({"month_from": "2015-01", "month_to": "2025-01"},
     "The range is too long: at most 120 months."),
    ({"month_from": "2025-01", "month_to": "2025-02", "group": "99999"},
     "Select a valid choice. That choice is not one of the available choices."),
])
def test_bad_filters_are_refused(admin_client, charges, en, url, query, message):
    before = db_state()
    page = admin_client.get(url, query)
    assert page.status_code == 200
    assert message in page.content.decode()
    assert 'class="asr-chart"' not in page.content.decode()
    response = admin_client.get(url, {**query, "format": "csv"})
    assert response.status_code == 400
    assert response.content.decode() == message + "\n"
    assert db_state() == before


def test_default_range_is_the_last_twelve_months(admin_client, en):
    html = admin_client.get(MOVEMENT).content.decode()
    this = timezone.localdate()
    assert f'value="{this:%Y-%m}"' in html
    assert html.count("<tr><td>") == 12


def test_permissions(client, django_user_model, charges):
    user = django_user_model.objects.create_user("viewer", password="pw-viewer-1",
                                                 is_staff=True)
    client.force_login(user)
    for url in (CHARGES, MOVEMENT, MIX):
        assert client.get(url).status_code == 403
        assert client.get(url, {"month_from": "2025-01", "month_to": "2025-01",
                                "format": "csv"}).status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="view_subscriber"))
    client.force_login(django_user_model.objects.get(pk=user.pk))
    assert client.get(MOVEMENT).status_code == 200
    assert client.get(MIX).status_code == 200
    assert client.get(CHARGES).status_code == 403
    index = client.get(reverse("admin:index")).content.decode()
    assert MOVEMENT in index and MIX in index and CHARGES not in index
    user.user_permissions.set([Permission.objects.get(codename="view_operation")])
    client.force_login(django_user_model.objects.get(pk=user.pk))
    assert client.get(CHARGES).status_code == 200
    assert client.get(MOVEMENT).status_code == 403
    assert CHARGES in client.get(reverse("admin:index")).content.decode()


def test_report_pages_take_few_queries(admin_client, charges, movement,
                                       django_assert_max_num_queries):
    query = {"month_from": "2015-02", "month_to": "2025-01"}  # 120 months
    for url in (CHARGES, MOVEMENT, MIX):
        with django_assert_max_num_queries(15):
            assert admin_client.get(url, query).status_code == 200


def test_grouped_chart_keeps_stacked_default():
    from asr_billing.core.svg_chart import bar_chart

    series = [("a", [Decimal(2)]), ("b", [Decimal(3)])]
    stacked = ET.fromstring(str(bar_chart(["x"], series, title="t")))  # noqa: S314
    grouped = ET.fromstring(str(bar_chart(["x"], series, title="t",  # noqa: S314
                                          stacked=False)))
    assert len({bar.get("x") for bar in stacked.findall(f"{SVG}rect[@class='bar']")}) == 1
    assert len({bar.get("x") for bar in grouped.findall(f"{SVG}rect[@class='bar']")}) == 2
    # counts: the axis is 0, 1, 2 ... not 0, 0.5, 1 ...
    ticks = ET.fromstring(str(bar_chart(["x"], [("a", [2])], title="t",  # noqa: S314
                                        whole=True))).findall(f"{SVG}text")
    assert [tick.text for tick in ticks[:3]] == ["0", "1", "2"]
