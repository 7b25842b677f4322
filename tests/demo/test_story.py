"""The story demo: everything the operator's example URLs name, every state, a consistent
ledger, and a second run that changes nothing.

The demo is loaded once per module inside an outer transaction that is rolled back at
the end; each test runs in a savepoint inside it (pytest-django's ``db``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone, translation

from asr_billing.billing.models import PromisedPayment, VoluntaryBlock
from asr_billing.core.models import Counter
from asr_billing.core.money import ZERO
from asr_billing.demo import history, story
from asr_billing.demo.common import ensure_services, ensure_tariffs
from asr_billing.finance.models import Account, Operation, OperationType, PaymentOperator
from asr_billing.finance.selectors import ledger_mismatches
from asr_billing.finance.services import payment_register
from asr_billing.finance.state import is_negbal
from asr_billing.network.crypto import decrypt_secret
from asr_billing.network.models import Login, Nas, OnlineSession
from asr_billing.network.selectors import login_check_password
from asr_billing.subscribers.models import AttributeValue, Group, Subscriber, SubscriberService
from asr_billing.subscribers.services import subscriber_create
from asr_billing.tariffs.models import ChargeMethod, Service, Tariff
from tests.demo.conftest import exact_mismatches

# Our own messages are compared in English (the default language is Russian).
pytestmark = pytest.mark.usefixtures("english")

MODELS = [Group, Subscriber, Account, AttributeValue, SubscriberService, Login, Nas,
          OnlineSession, Operation, PaymentOperator, Tariff, Service, PromisedPayment,
          VoluntaryBlock]


@pytest.fixture(scope="module")
def story_output(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            out = StringIO()
            call_command("seed_reference", verbosity=0)
            with translation.override("en"):  # module-scoped: before the english fixture
                call_command("demo_data", stdout=out)
            yield out.getvalue()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def demo(story_output, db):
    return story_output


def local(year, month, day):
    return timezone.make_aware(dt.datetime(year, month, day), timezone.get_default_timezone())


def counts():
    return {model.__name__: model.objects.count() for model in MODELS}


def test_output_names_what_was_loaded(demo):
    assert demo.startswith("Story demo loaded: 260 subscribers, ")


def test_contract_bill0000003_owns_testlogin_paid_up_and_online(demo):
    login = Login.objects.select_related("subscriber__account", "nas").get(login="testlogin")
    assert login_check_password(login, "testpsw")
    assert not login_check_password(login, "testpsw2")
    assert login.ip == "10.20.30.41"
    assert login.nas.ip == "10.0.0.1"
    assert login.enabled
    subscriber = login.subscriber
    assert subscriber.contract_number == "BILL0000003"
    assert subscriber.pk == story.TEST_SUBSCRIBER_ID
    assert subscriber.account.balance >= 0
    assert not subscriber.negbal
    assert not subscriber.admin_blocked
    assert not subscriber.voluntary_blocked
    iptv = SubscriberService.objects.get(subscriber=subscriber, service__name="IPTV «Базовый»")
    assert (iptv.enabled_on, iptv.disabled_on) == (story.TEST_IPTV_SINCE, None)
    session = OnlineSession.objects.get(login=login, stopped_at__isnull=True)
    assert session.nas.ip == "10.0.0.1"
    assert session.ip == "10.20.30.41"
    assert Login.objects.filter(ip="10.20.30.41").count() == 1


def test_subscriber_1361_paid_in_march_2023(demo):
    subscriber = Subscriber.objects.get(pk=1361)
    assert subscriber.connected_on < dt.date(2023, 3, 1)
    march = Operation.objects.filter(
        account_id=1361, type=OperationType.PAYMENT,
        op_date__gte=local(2023, 3, 1), op_date__lt=local(2023, 4, 1))
    assert march.count() >= 1
    assert all(op.amount > 0 for op in march)


def test_operation_54894_is_a_payment_inside_the_id_range(demo):
    operation = Operation.objects.get(pk=54894)
    assert operation.type == OperationType.PAYMENT
    assert operation.amount > 0
    assert operation.pay_operator is not None
    assert not operation.is_reversed
    first = Operation.objects.order_by("id").first().pk
    assert story.FIRST_OPERATION_ID <= first < 54894
    assert Operation.objects.filter(pk__gt=54894).exists()


def test_group_1225_holds_companies_not_synced_with_1c(demo):
    group = Group.objects.get(pk=1225)
    assert group.parent_id == 1224
    members = Subscriber.objects.filter(group=group)
    unsynced = members.filter(synced_1c=False)
    assert unsynced.count() >= 20
    assert all(not s.code1c for s in unsynced)
    assert members.filter(synced_1c=True).exclude(code1c="").exists()
    assert all(s.is_company for s in members)
    for subscriber in unsynced:
        values = dict(subscriber.attributes.values_list("attribute_id", "value"))
        assert values[4].isdigit() and len(values[4]) in (10, 12)
        assert values[25]
        if len(values[4]) == 10:  # an organisation has a KPP, an ИП has not
            assert len(values[5]) == 9
    assert sorted(Group.objects.filter(pk__range=(1220, 1227)).values_list("pk", flat=True)
                  ) == list(range(1220, 1228))


def test_payment_operators_and_nas(demo):
    assert PaymentOperator.objects.get(code="SBERBANK_OSMP").enabled
    assert set(PaymentOperator.objects.values_list("code", flat=True)) >= {
        "SBERBANK_OSMP", "SBERBANK_ACQ", "QIWI", "CASH"}
    for ip in ("10.0.0.1", "10.0.0.2"):
        nas = Nas.objects.get(ip=ip)
        assert decrypt_secret(nas.radius_secret_enc).startswith("radius-")
        assert nas.logins.count() > 50


def test_tariffs_services_and_charge_methods(demo):
    methods = set(Tariff.objects.values_list("charge_method", flat=True)) | set(
        Service.objects.values_list("charge_method", flat=True))
    assert methods == {ChargeMethod.ONCE, ChargeMethod.DAILY, ChargeMethod.MONTHLY,
                       ChargeMethod.MONTHLY_SPREAD}
    archived = Tariff.objects.get(is_active=False)
    assert archived.subscribers.exists()
    home = Tariff.objects.get(name="Домашний 100")
    assert (home.rate_in, home.ceil_in, home.rate_out, home.ceil_out) == (
        51200, 102400, 51200, 102400)
    used = set(Subscriber.objects.values_list("tariff__charge_method", flat=True))
    assert {ChargeMethod.DAILY, ChargeMethod.MONTHLY, ChargeMethod.MONTHLY_SPREAD} <= used
    assert SubscriberService.objects.count() > 100
    assert SubscriberService.objects.filter(disabled_on__isnull=False).exists()


def test_every_state_is_present_and_consistent(demo):
    today = timezone.localdate()
    now = timezone.now()
    subscribers = Subscriber.objects.select_related("account", "tariff")
    for s in subscribers:
        expected = is_negbal(balance=s.account.balance, credit_limit=s.account.credit_limit,
                             promised=s.account.promised_amount,
                             threshold=s.tariff.disconnect_threshold)
        assert s.negbal == expected, s.contract_number
    assert subscribers.filter(negbal=True).count() >= 20
    blocked = subscribers.filter(admin_blocked=True)
    assert blocked.count() >= 4
    assert all(s.admin_block_reason for s in blocked)
    voluntary = set(subscribers.filter(voluntary_blocked=True).values_list("pk", flat=True))
    covering = set(VoluntaryBlock.objects.filter(
        start_date__lte=today, end_date__gte=today, ended_at__isnull=True
    ).values_list("subscriber_id", flat=True))
    assert len(voluntary) >= 4
    assert voluntary == covering
    active = PromisedPayment.objects.filter(closed_at__isnull=True, expires_at__gt=now)
    assert active.exists()
    promised = defaultdict(lambda: ZERO)
    for p in active:
        promised[p.subscriber_id] += p.amount
    for account in Account.objects.all():
        assert account.promised_amount == promised.get(account.pk, ZERO)
    for p in active:
        account = Account.objects.get(pk=p.subscriber_id)
        assert account.balance < 0 < account.balance + account.promised_amount
    on_credit = Account.objects.filter(credit_limit__gt=0, balance__lt=0,
                                       subscriber__negbal=False)
    assert on_credit.exists()
    online = OnlineSession.objects.filter(stopped_at__isnull=True).select_related("login")
    assert online.count() >= 100
    for session in online:
        assert session.login.enabled
        assert session.nas_id == session.login.nas_id
        assert session.ip == session.login.ip
    online_subscribers = {s.login.subscriber_id for s in online}
    assert online_subscribers.isdisjoint(voluntary)
    assert online_subscribers.isdisjoint(set(blocked.values_list("pk", flat=True)))
    offline_paid = subscribers.filter(negbal=False, admin_blocked=False,
                                      voluntary_blocked=False).exclude(pk__in=online_subscribers)
    assert offline_paid.exists()


@pytest.mark.parametrize("nas_ip", ["10.0.0.1", "10.0.0.2"])
def test_each_collector_list_has_rows_on_each_nas(demo, nas_ip):
    logins = Login.objects.filter(nas__ip=nas_ip, enabled=True)
    assert logins.filter(subscriber__negbal=True).exists()
    assert logins.filter(subscriber__admin_blocked=True).exists()
    assert logins.filter(sessions__stopped_at__isnull=True).exists()
    assert logins.exclude(snat_ip=None).exists() or nas_ip == "10.0.0.1"
    assert logins.exclude(mac="").exists()


def test_the_iptv_access_list_has_viewers(demo, client, config_edit):
    # docs/system-api.md's curl example for the IPTV plug-in answers a non-empty object.
    config_edit("network", "api.collector.psw", "collectortestpsw")
    response = client.get(
        "/system_api/?model=Collector&method1=collector_manager.collector_iptv_accept_list_get"
        "&arg1={}&context=collector&psw=collectortestpsw")
    answer = response.json()
    tv = Service.objects.get(name="IPTV «Базовый»")
    assert len(tv.channel_list) == 10
    assert answer and all(channels == tv.channel_list for channels in answer.values())
    online = Login.objects.filter(enabled=True, subscriber__negbal=False,
                                  subscriber__admin_blocked=False,
                                  subscriber__voluntary_blocked=False)
    allowed = set(online.values_list("ip", flat=True)) | set(OnlineSession.objects.filter(
        login__in=online, stopped_at__isnull=True).values_list("ip", flat=True))
    assert set(answer) <= allowed


def test_ledger_check_passes(demo):
    assert ledger_mismatches() == []
    out = StringIO()
    call_command("ledger_check", stdout=out)
    assert out.getvalue() == (
        "OK: 260 accounts, every balance equals the sum of its operations\n")


def test_ledger_balances_and_running_balances(demo):
    assert 15_000 <= Operation.objects.count() <= 60_000
    assert exact_mismatches() == []


def test_charges_carry_the_engines_keys(demo):
    charges = Operation.objects.filter(type=OperationType.CHARGE).select_related(
        "tariff", "service", "account__subscriber")
    enabled = {(s, v): on for s, v, on in SubscriberService.objects.values_list(
        "subscriber_id", "service_id", "enabled_on")}
    for op in charges.iterator(chunk_size=5000):
        item = op.tariff or op.service
        assert (op.tariff is None) != (op.service is None)
        assert op.amount < 0
        if item.charge_method == ChargeMethod.MONTHLY:
            month_end = (op.period_start.replace(day=28) + dt.timedelta(days=4)).replace(
                day=1) - dt.timedelta(days=1)
            assert op.period_end == month_end
            if op.period_start.day != 1:  # the part from the day it started, pro rata
                start = (op.account.subscriber.connected_on if op.tariff
                         else enabled[(op.account_id, op.service_id)])
                assert op.period_start == start
        else:
            assert op.period_start == op.period_end
    # A whole month of a spread-by-day charge adds up to the monthly fee exactly.
    per_month = defaultdict(lambda: [0, ZERO])
    spread = charges.filter(Q(tariff__charge_method=ChargeMethod.MONTHLY_SPREAD)
                            | Q(service__charge_method=ChargeMethod.MONTHLY_SPREAD))
    for op in spread:
        item = op.tariff or op.service
        entry = per_month[(op.account_id, item.fee, op.period_start.replace(day=1))]
        entry[0] += 1
        entry[1] += op.amount
    full_months = [(fee, total) for (_a, fee, month), (days, total) in per_month.items()
                   if days == ((month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
                               - dt.timedelta(days=1)).day]
    assert full_months
    assert all(total == -fee for fee, total in full_months)


def test_payments_reversals_corrections_and_1c(demo):
    payments = Operation.objects.filter(type=OperationType.PAYMENT)
    assert payments.filter(pay_operator__code="SBERBANK_OSMP").count() > 500
    assert not payments.filter(pay_operator__code="SBERBANK_OSMP",
                               external_id="1238989213892").exists()
    keyed = payments.exclude(pay_operator__code="BANK")
    assert not keyed.filter(external_id="").exists()
    assert not Operation.objects.filter(type=OperationType.PAYMENT, amount__lte=0).exists()
    from_1c = payments.filter(pay_operator__code="BANK")
    assert from_1c.exists()
    assert all(op.synced_1c and op.description == f"Из 1С:{op.code1c}" for op in from_1c)
    assert Operation.objects.filter(type=OperationType.CHARGE, synced_1c=True).exclude(
        code1c="").exists()
    reversals = Operation.objects.filter(type=OperationType.REVERSAL).select_related(
        "reverses")
    assert reversals.count() >= 4
    for reversal in reversals:
        assert reversal.amount == -reversal.reverses.amount
        assert reversal.account_id == reversal.reverses.account_id
        assert reversal.pk > reversal.reverses.pk
    assert Operation.objects.filter(type=OperationType.CORRECTION, amount__lt=0).exists()
    assert Operation.objects.filter(type=OperationType.CORRECTION, amount__gt=0).exists()
    assert not Subscriber.objects.filter(code1c="code1c_589895403").exists()


def test_new_records_continue_after_the_demo(demo):
    assert Counter.objects.get(name="contract_number").value == 260
    subscriber = subscriber_create(
        name="Иванов Иван Иванович", group=Group.objects.get(pk=1221), actor="test")
    assert subscriber.contract_number == "BILL0000261"
    assert subscriber.pk > 1560
    result = payment_register(subscriber="BILL0000003", amount=Decimal("100.00"),
                              operator="SBERBANK_OSMP", external_id="1238989213892",
                              actor="test")
    assert result.created
    assert result.operation.pk > Operation.objects.exclude(pk=result.operation.pk).order_by(
        "-pk").first().pk


def strategies():
    return ["portable", "sql"] if connection.vendor == "postgresql" else ["portable"]


def test_a_billing_run_today_finds_nothing_due(demo):
    """The history runs up to today with the engine's keys: nothing is left to charge,
    and the housekeeping (expiries) finds nothing to end."""
    from asr_billing.billing.run import billing_run

    before = counts()
    flags = list(Subscriber.objects.order_by("pk").values_list(
        "negbal", "admin_blocked", "voluntary_blocked", "tariff_id"))
    for strategy in strategies():
        run = billing_run(strategy=strategy, actor="test")
        assert (run.status, run.charges_made, run.amount, run.errors) == (
            "done", 0, Decimal("0.00"), 0)
        assert run.subscribers_seen == 260
    assert counts() == before
    assert list(Subscriber.objects.order_by("pk").values_list(
        "negbal", "admin_blocked", "voluntary_blocked", "tariff_id")) == flags


def test_second_run_changes_nothing(demo):
    before = counts()
    out = StringIO()
    call_command("demo_data", stdout=out)
    assert out.getvalue() == ("The story demo is already present (subscriber 1361); "
                              "nothing changed.\n")
    assert counts() == before


def test_bulk_after_the_story_keeps_everything_consistent(demo):
    out = StringIO()
    call_command("demo_data", subscribers=200, stdout=out)
    assert "contracts BILL0000261-BILL0000460" in out.getvalue()
    assert Subscriber.objects.count() == 460
    assert exact_mismatches() == []
    assert not Subscriber.objects.filter(pk__gt=1560, pk__lte=10_000).exists()


def test_the_story_is_deterministic_for_a_day(demo):
    today = timezone.localdate()
    now = timezone.now()
    tariffs, services = ensure_tariffs(), ensure_services()

    def snapshot():
        plans = story.StoryBuilder(today=today, now=now, tariffs=tariffs,
                                   services=services).build(prefix="BILL", digits=7)
        return [(p.id, p.name, p.contract, p.address, p.target, [e.login for e in p.logins],
                 [(e.time, e.type, e.amount) for e in p.events]) for p in plans]

    assert snapshot() == snapshot()


def test_who_is_who_does_not_depend_on_the_day(demo):
    """The docs' examples show names, contacts, logins and services of the demo: they are
    the same whatever day the demo is made, and so are the March 2023 payments of 1361
    (only money and dates follow today)."""
    tariffs, services = ensure_tariffs(), ensure_services()

    def who(today):
        now = timezone.make_aware(dt.datetime.combine(today, dt.time(12)))
        plans = story.StoryBuilder(today=today, now=now, tariffs=tariffs,
                                   services=services).build(prefix="BILL", digits=7)
        # The connection fee is charged to those connected since 2024, and connection
        # dates follow today (a recent subscriber connected in the last months).
        people = [(p.id, p.contract, p.name, p.address, p.apartment, p.sms, p.email,
                   p.code1c, p.tariff.name,
                   sorted(s.name for s, _, _ in p.services if s.name != "Подключение"),
                   [(e.login, e.password, e.ip, e.mac, e.snat_ip) for e in p.logins])
                  for p in plans]
        [key] = [p for p in plans if p.id == story.KEY_SUBSCRIBER_ID]
        march = [(e.time, e.amount) for e in key.events if e.type == history.T.PAYMENT
                 and dt.date(2023, 3, 1) <= e.time.date() < dt.date(2023, 4, 1)]
        return people, march

    today = timezone.localdate()
    people, march = who(today)
    assert march  # the docs' FinanceOperations and api_1c examples list them
    for days in (1, 17, 45, 200, 400):
        assert who(today + dt.timedelta(days=days)) == (people, march), days


def test_the_cabinet_helpdesk_examples_answer_something(demo, client):
    # docs/system-api.md's helpdesk and notification examples, as testlogin.
    import json

    def cab(method, arg1):
        return client.get("/system_api/", {
            "format": "json", "context": "web", "model": "users",
            "method1": f"web_cabinet.{method}", "arg1": json.dumps(arg1)}).json()

    suid = cab("login", {"login": "testlogin", "passwd": "testpsw"})["session_id"]
    dialogs = cab("get_helpdesk_dialogs", {"suid": suid, "parent_id": None})
    assert [(i["subj"], i["__status"], i["child_count"], i["unread_count"])
            for i in dialogs["items"]] == [
        ("Низкая скорость вечером", "Ожидает ответа", "3", "1"),
        ("Смена тарифа", "Закрыт", "1", "0")]
    ticket = dialogs["items"][0]["id"]
    notices = cab("get_notifications_for_user", {"suid": suid})["notifications"]
    assert [n["type"] for n in notices] == ["info", "warning", "info"]
    assert notices[0]["text"].startswith("В Центральном районе")
    assert notices[1]["text"].startswith("Плановые работы")
    assert notices[2]["text"].endswith(f"в заявках: #{ticket}")
    comments = cab("get_helpdesk_comments", {"suid": suid, "parent_id": ticket})
    assert [(c["__creator_abonent"], c["read_comment"]) for c in comments] == [
        ("root", "1"), (Subscriber.objects.get(pk=story.TEST_SUBSCRIBER_ID).name, "1"),
        ("root", "0")]
