"""``demo --subscribers N``: consistent bulk data, exact state mix, repeatable runs; the
story demo's refusal of a database that holds its ids; the progress bar's quiet mode."""

from __future__ import annotations

import io
import ipaddress
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from asr_billing.demo.bulk import CGNAT
from asr_billing.demo.progress import progress_bar, progress_enabled
from asr_billing.finance.models import Account, Operation, OperationType
from asr_billing.finance.selectors import ledger_mismatches
from asr_billing.finance.state import is_negbal
from asr_billing.network.models import Login, Nas, OnlineSession
from asr_billing.network.selectors import login_check_password
from asr_billing.subscribers.models import Group, Subscriber
from asr_billing.subscribers.services import subscriber_create
from tests.conftest import ACTOR
from tests.demo.conftest import exact_mismatches

# Our own messages are compared in English (the default language is Russian).
pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def home(db):
    """An empty database: the command seeds the reference rows itself."""


def bulk(n, **options) -> str:
    out = StringIO()
    call_command("demo_data", subscribers=n, stdout=out, **options)
    return out.getvalue()


def test_500_subscribers_with_the_exact_state_mix(home):
    output = bulk(500)
    group = Group.objects.get(name="Нагрузочный тест №1")
    subscribers = Subscriber.objects.filter(group=group).select_related("account", "tariff")
    assert subscribers.count() == 500
    assert Account.objects.count() == 500
    assert subscribers.filter(negbal=True).count() == 50
    assert subscribers.filter(admin_blocked=True).count() == 15
    assert OnlineSession.objects.filter(stopped_at__isnull=True).count() == 200
    assert (
        "Added 500 subscribers (ids 10001-10500, contracts BILL0000261-BILL0000760) in group "
        "«Нагрузочный тест №1», 500 logins on NAS 10.0.1.1, 200 online, 50 negbal, "
        "15 blocked, 550 operations in "
    ) in output
    for s in subscribers:
        assert s.negbal == is_negbal(balance=s.account.balance,
                                     credit_limit=s.account.credit_limit,
                                     promised=s.account.promised_amount,
                                     threshold=s.tariff.disconnect_threshold)
        assert s.account.balance != 0
    assert ledger_mismatches() == []
    assert exact_mismatches() == []
    assert not Operation.objects.filter(type=OperationType.PAYMENT, amount__lte=0).exists()


def test_logins_are_unique_on_the_bench_nas(home):
    bulk(500)
    nas = Nas.objects.get(ip="10.0.1.1")
    logins = Login.objects.filter(subscriber__group__name="Нагрузочный тест №1")
    assert logins.count() == logins.filter(nas=nas, enabled=True).count() == 500
    ips = [ipaddress.ip_address(ip) for ip in logins.values_list("ip", flat=True)]
    assert len(set(ips)) == 500
    assert all(ip in CGNAT and 0 < int(ip) & 255 < 255 for ip in ips)
    assert len(set(logins.values_list("mac", flat=True))) == 500
    login = logins.order_by("?").first()
    assert login_check_password(login, "benchpsw")
    for session in OnlineSession.objects.select_related("login"):
        assert session.nas_id == nas.pk
        assert session.ip == session.login.ip
        assert not session.login.subscriber.negbal
        assert not session.login.subscriber.admin_blocked


def test_a_second_run_adds_as_many_again_without_collisions(home):
    bulk(300)
    second = bulk(300)
    assert "ids 10301-10600, contracts BILL0000561-BILL0000860" in second
    assert "«Нагрузочный тест №2»" in second
    assert Subscriber.objects.count() == 600
    assert Group.objects.filter(name__startswith="Нагрузочный тест").count() == 2
    ips = list(Login.objects.values_list("ip", flat=True))
    assert len(set(ips)) == 600
    assert Login.objects.values("login").distinct().count() == 600
    assert OnlineSession.objects.values("acct_session_id").distinct().count() == 240
    assert ledger_mismatches() == []
    # Ordinary inserts continue above the explicit ids (the sequences were moved).
    subscriber = subscriber_create(name="Новый Абонент", group=Group.objects.first(),
                                   actor=ACTOR)
    assert subscriber.pk == 10601
    assert subscriber.contract_number == "BILL0000861"


def test_ips_continue_above_any_used_in_the_range(home, make_subscriber, make_login):
    owner = make_subscriber()
    make_login(owner, "manual", ip="100.64.5.10", enabled=False)
    bulk(3)
    assert sorted(Login.objects.filter(login__startswith="bench").values_list("ip", flat=True)
                  ) == ["100.64.5.11", "100.64.5.12", "100.64.5.13"]


def test_the_story_demo_can_follow_bulk_data(home):
    bulk(100)
    out = StringIO()
    call_command("demo_data", stdout=out)
    assert out.getvalue().startswith("Story demo loaded: 260 subscribers")
    assert Subscriber.objects.get(pk=1303).contract_number == "BILL0000003"
    assert Subscriber.objects.count() == 360
    assert exact_mismatches() == []


@pytest.mark.parametrize("n", [0, -5])
def test_refuses_a_count_below_one(home, n):
    with pytest.raises(CommandError) as error:
        bulk(n)
    assert str(error.value) == "--subscribers must be a positive number"
    assert Subscriber.objects.count() == 0


def test_story_refuses_a_database_holding_its_ids(home):
    group = Group.objects.create(name="Мои абоненты")
    subscriber_create(name="Петров Пётр", group=group, actor=ACTOR,
                      contract_number="BILL0000005", credit_limit=Decimal("0"))
    before = (Subscriber.objects.count(), Operation.objects.count(), Group.objects.count(),
              Nas.objects.count())
    with pytest.raises(CommandError) as error:
        call_command("demo_data", stdout=StringIO())
    assert str(error.value) == (
        "cannot add the story demo: this database already uses its contract numbers "
        "BILL0000001-BILL0000260. Load it into a fresh home (asr-billing init --demo) "
        "before other data.")
    assert (Subscriber.objects.count(), Operation.objects.count(), Group.objects.count(),
            Nas.objects.count()) == before


class FakeTty(io.StringIO):
    def isatty(self):
        return True


def test_progress_is_quiet_in_ci_and_in_pipes(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    assert progress_enabled(FakeTty())
    assert not progress_enabled(io.StringIO())
    monkeypatch.setenv("CI", "true")
    assert not progress_enabled(FakeTty())
    monkeypatch.setenv("CI", "false")
    assert progress_enabled(FakeTty())
    with progress_bar(10, "quiet", enabled=False) as bar:
        bar.advance(10)
