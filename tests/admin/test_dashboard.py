"""The admin's first page (core/dashboard.py): subscribers by state with links to the
filtered lists, payments today and this month by operator, the last charging run, open
sessions and tickets waiting — numbers checked against a known data set, in a bounded
number of queries, and only what the operator may see."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from asr_billing.core.dashboard import dashboard
from asr_billing.core.roles import SUPPORT, roles_ensure
from asr_billing.finance.models import Operation
from asr_billing.finance.services import payment_register

pytestmark = pytest.mark.django_db
INDEX = reverse("admin:index")


def test_the_figures_match_the_data(admin_user, isp, operator):
    board = dashboard(admin_user)
    # isp: paid_online, negbal, blocked (admin), voluntary, offline
    assert board.states == {"total": 5, "active": 2, "negbal": 1, "blocked": 1,
                            "voluntary": 1}
    by_code = {row.code: row for row in board.payments}
    # 1000.00 by the test operator; 50.00 and 10.00 without one (the cash desk default)
    assert sum(row.month_amount for row in board.payments) == Decimal("1060.00")
    assert by_code[operator.code].today_amount == Decimal("1000.00")
    assert board.payments_total.month_count == 3
    assert board.sessions_open == 1 and board.tickets_open == 0
    assert board.last_run is None


def test_a_payment_of_an_earlier_day_counts_for_the_month_only(admin_user, isp, operator):
    now = timezone.localtime()
    if now.day == 1:  # the day before is last month: nothing to tell apart today
        pytest.skip("the first of the month")
    before = dashboard(admin_user).payments_total
    earlier = now - timedelta(days=1)
    payment_register(subscriber=isp.offline, amount=Decimal("7.50"), actor="test",
                     operator=operator, external_id="yesterday", op_date=earlier)
    after = dashboard(admin_user).payments_total
    assert after.month_amount - before.month_amount == Decimal("7.50")
    assert after.today_amount == before.today_amount


def test_the_page_links_each_state_to_its_list(admin_client, isp, django_assert_max_num_queries):
    with django_assert_max_num_queries(15):
        page = admin_client.get(INDEX)
    html = page.content.decode()
    changelist = reverse("admin:subscribers_subscriber_changelist")
    for state in ("active", "negbal", "blocked", "voluntary"):
        assert f"{changelist}?state={state}" in html
    assert "1060,00" in html or "1 060,00" in html  # this month, in Russian figures


def test_money_is_hidden_from_who_may_not_see_it(client, django_user_model, isp):
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("viewer", password="pw-viewer-1",
                                                 is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_subscriber"))
    board = dashboard(user)
    assert board.visible == {"states"} and board.payments is None
    client.force_login(user)
    html = client.get(INDEX).content.decode()
    assert "1060" not in html and "1 060" not in html
    assert reverse("admin:subscribers_subscriber_changelist") + "?state=negbal" in html


def test_roles_see_what_their_work_needs(django_user_model):
    roles_ensure()
    user = django_user_model.objects.create_user("helper", is_staff=True)
    user.groups.add(Group.objects.get(name=SUPPORT))
    assert dashboard(user).visible >= {"states", "sessions", "tickets"}


def test_the_last_run_is_shown(admin_client, isp):
    from asr_billing.billing.run import billing_run

    run = billing_run()
    html = admin_client.get(INDEX).content.decode()
    assert reverse("admin:billing_billingrun_change", args=[run.pk]) in html


def test_operations_of_other_types_are_not_payments(admin_user, isp):
    assert Operation.objects.exclude(type=2).exists()  # charges in the data set
    payments = Operation.objects.filter(type=2, op_date__gte=datetime.combine(
        timezone.localdate().replace(day=1), datetime.min.time(),
        tzinfo=timezone.get_current_timezone()))
    assert dashboard(admin_user).payments_total.month_count == payments.count()
