"""Promised payments and voluntary blocks from the subscriber page: the buttons, the forms,
the exact effects of billing.services, their refusals shown on the form with nothing
changed, and who may reach the pages."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from asr_billing.billing import texts
from asr_billing.billing.models import PromisedPayment, VoluntaryBlock
from asr_billing.billing.services import (
    promised_payment_take,
    promised_payments_expire,
    voluntary_block_create,
    voluntary_blocks_apply,
)
from asr_billing.core.models import AuditEntry
from asr_billing.finance.models import Account, Operation, OperationType
from asr_billing.finance.services import correction_post, payment_register
from asr_billing.subscribers.models import Subscriber
from asr_billing.subscribers.services import subscriber_block
from tests.billing.conftest import at
from tests.conftest import db_state

pytestmark = pytest.mark.django_db

D = Decimal
MSK = ZoneInfo("Europe/Moscow")
TODAY = date(2026, 3, 14)  # the frozen local day of every test here (12:00 Moscow)


@pytest.fixture(autouse=True)
def clock(english, cfg):
    """A frozen clock, and an admin speaking English (our texts are asserted in English;
    Carbon's are Russian constants in any language)."""
    cfg("app", "language", "en")
    with at(TODAY, 12):
        yield


@pytest.fixture
def debtor(make_subscriber):
    """Cut off by balance: -120.00 on the account."""
    sub = make_subscriber("Должников Дмитрий")
    correction_post(subscriber=sub, amount=D("-120.00"), actor="test", description="debt")
    sub.refresh_from_db()
    assert sub.negbal
    return sub


@pytest.fixture
def payer(make_subscriber):
    """Paid up: 1000.00 on the account, not cut off."""
    sub = make_subscriber("Плательщиков Павел")
    payment_register(subscriber=sub, amount=D("1000.00"), actor="test")
    sub.refresh_from_db()
    assert not sub.negbal
    return sub


def url(name, subscriber):
    return reverse(f"admin:subscribers_subscriber_{name}", args=[subscriber.pk])


def change_page(client, subscriber) -> str:
    response = client.get(url("change", subscriber))
    assert response.status_code == 200
    return response.content.decode()


def buttons(client, subscriber) -> set[str]:
    """Which of the three billing buttons the subscriber's page shows."""
    html = change_page(client, subscriber)
    return {name for name in ("promised", "vblock", "vblock_lift")
            if f'href="{url(name, subscriber)}"' in html}


def state() -> dict:
    """db_state plus what these services write: promised payments, blocks, block flags."""
    return {
        **db_state(),
        "promised": list(PromisedPayment.objects.order_by("pk").values_list(
            "pk", "amount", "expires_at", "closed_at")),
        "blocks": list(VoluntaryBlock.objects.order_by("pk").values_list(
            "pk", "start_date", "end_date", "ended_at", "cost")),
        "voluntary": list(Subscriber.objects.order_by("pk").values_list(
            "pk", "voluntary_blocked")),
    }


def refused(client, name, subscriber, data) -> list[str]:
    """POST a form the service refuses: the form comes back with the refusal, nothing
    changed. Returns the form's non-field errors."""
    before = state()
    response = client.post(url(name, subscriber), data)
    assert response.status_code == 200
    assert state() == before
    errors = list(response.context["form"].non_field_errors())
    for error in errors:
        assert error in response.content.decode()
    return errors


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- Promised payment -----------------------------------------------------------------


def test_promised_form_is_prefilled_with_the_terms(admin_client, debtor):
    response = admin_client.get(url("promised", debtor))
    assert response.status_code == 200
    form = response.context["form"]
    assert form["amount"].value() == D("300.00")
    assert form["days"].value() == 3
    assert response.context["account"].balance == D("-120.00")


def test_promised_payment_on_the_terms_lifts_the_cut_off(admin_client, debtor):
    response = admin_client.post(url("promised", debtor), {"amount": "", "days": ""},
                                 follow=True)
    assert response.redirect_chain == [(url("change", debtor), 302)]
    promised = PromisedPayment.objects.get(subscriber=debtor)
    assert (promised.amount, promised.closed_at, promised.actor) == (D("300.00"), None,
                                                                      "admin:admin")
    assert promised.created_at == datetime(2026, 3, 14, 12, 0, tzinfo=MSK)
    assert promised.expires_at == datetime(2026, 3, 17, 12, 0, tzinfo=MSK)
    account = Account.objects.get(pk=debtor.pk)
    assert (account.balance, account.promised_amount) == (D("-120.00"), D("300.00"))
    debtor.refresh_from_db()
    assert debtor.negbal is False
    actions = list(AuditEntry.objects.filter(subscriber=debtor, actor="admin:admin")
                   .order_by("pk").values_list("action", flat=True))
    assert actions == ["promised_payment_take", "negbal_off"]
    assert not Operation.objects.filter(account_id=debtor.pk).exclude(
        type=OperationType.CORRECTION).exists()  # a promised payment is not money
    assert messages_of(response) == ["Promised payment of 300.00 taken until 03/17/2026 noon."]
    assert "promised" not in buttons(admin_client, debtor)


def test_promised_payment_with_the_operators_amount_and_days(admin_client, debtor):
    response = admin_client.post(url("promised", debtor), {"amount": "150,50", "days": "5"})
    assert response.status_code == 302
    promised = PromisedPayment.objects.get(subscriber=debtor)
    assert promised.amount == D("150.50")
    assert promised.expires_at == datetime(2026, 3, 19, 12, 0, tzinfo=MSK)
    assert Account.objects.get(pk=debtor.pk).promised_amount == D("150.50")
    debtor.refresh_from_db()
    assert debtor.negbal is False


@pytest.mark.parametrize("data", [{"amount": "0", "days": ""}, {"amount": "1.001", "days": ""},
                                  {"amount": "", "days": "0"}])
def test_promised_bad_input_is_a_field_error(admin_client, debtor, data):
    before = state()
    response = admin_client.post(url("promised", debtor), data)
    assert response.status_code == 200
    assert response.context["form"].errors
    assert state() == before


@pytest.mark.parametrize("amount", ["1e13", "1" * 30, "1000000000000", "1E+999999"])
def test_promised_amount_past_the_column_is_a_field_error(admin_client, debtor, amount):
    before = state()
    response = admin_client.post(url("promised", debtor), {"amount": amount, "days": ""})
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "amount": ["The amount is too large: at most 999999999999.99."]}
    assert state() == before


def test_promised_amount_past_the_column_from_code_changes_nothing(debtor):
    from asr_billing.core.errors import InvalidInput

    before = state()
    for amount in (D("1e13"), "1" * 30, 10**13):
        with pytest.raises(InvalidInput) as info:
            promised_payment_take(subscriber=debtor, actor="test", amount=amount)
        assert info.value.message == (
            "Promised payment amount is too large: at most 999999999999.99")
    with pytest.raises(InvalidInput) as info:
        promised_payment_take(subscriber=debtor, actor="test", amount="NaN")
    assert info.value.message == "The promised payment amount is not a valid amount"
    assert state() == before


def test_promised_only_to_unblock(admin_client, payer):
    errors = refused(admin_client, "promised", payer, {"amount": "", "days": ""})
    assert errors == [texts.PROMISED_ONLY_TO_UNBLOCK]  # "Обещанный платеж доступен только ..."


def test_promised_already_active(admin_client, debtor):
    assert admin_client.post(url("promised", debtor), {}).status_code == 302
    errors = refused(admin_client, "promised", debtor, {"amount": "10", "days": ""})
    assert errors == [texts.PROMISED_ALREADY_ACTIVE]


def test_promised_not_while_blocked_by_the_administrator(admin_client, debtor):
    blocked = subscriber_block(subscriber=debtor, actor="test", reason="fraud")
    errors = refused(admin_client, "promised", blocked, {"amount": "", "days": ""})
    assert errors == [texts.PROMISED_NOT_AVAILABLE]


def test_promised_month_limit(admin_client, debtor):
    assert admin_client.post(url("promised", debtor), {}).status_code == 302
    with at(date(2026, 3, 18), 12):
        assert promised_payments_expire() == 1
        debtor.refresh_from_db()
        assert debtor.negbal
        errors = refused(admin_client, "promised", debtor, {"amount": "", "days": ""})
    assert errors == [texts.PROMISED_MONTH_LIMIT % 1]


def test_promised_button_only_where_it_makes_sense(admin_client, debtor, payer, cfg):
    assert "promised" in buttons(admin_client, debtor)
    assert "promised" not in buttons(admin_client, payer)  # only to unblock (the default)
    cfg("billing", "promised.only_when_cut_off", "no")
    assert "promised" in buttons(admin_client, payer)
    subscriber_block(subscriber=payer, actor="test", reason="fraud")
    assert "promised" not in buttons(admin_client, payer)
    cfg("billing", "promised.amount", "0")  # promised payments turned off
    assert "promised" not in buttons(admin_client, debtor)


# --- Voluntary block ------------------------------------------------------------------


def block_data(start: date, end: date) -> dict:
    return {"start_date": start.isoformat(), "end_date": end.isoformat()}


def test_voluntary_block_form_starts_today(admin_client, payer):
    response = admin_client.get(url("vblock", payer))
    assert response.status_code == 200
    assert response.context["form"]["start_date"].value() == TODAY


def test_voluntary_block_from_today(admin_client, payer):
    response = admin_client.post(url("vblock", payer),
                                 block_data(TODAY, date(2026, 3, 23)), follow=True)
    assert response.redirect_chain == [(url("change", payer), 302)]
    block = VoluntaryBlock.objects.get(subscriber=payer)
    assert (block.start_date, block.end_date, block.ended_at, block.cost, block.actor) == (
        TODAY, date(2026, 3, 23), None, D("0.00"), "admin:admin")
    payer.refresh_from_db()
    assert payer.voluntary_blocked is True
    assert Account.objects.get(pk=payer.pk).balance == D("1000.00")  # free by default
    actions = list(AuditEntry.objects.filter(subscriber=payer, actor="admin:admin")
                   .order_by("pk").values_list("action", flat=True))
    assert actions == ["voluntary_block_create", "voluntary_block_on"]
    assert messages_of(response) == ["Voluntary block from 03/14/2026 to 03/23/2026 set."]
    assert buttons(admin_client, payer) == {"vblock_lift"}


def test_voluntary_block_planned_with_a_cost(admin_client, payer, cfg):
    cfg("billing", "vblock.cost", "50.00")
    response = admin_client.post(url("vblock", payer),
                                 block_data(date(2026, 3, 20), date(2026, 3, 31)), follow=True)
    assert response.redirect_chain == [(url("change", payer), 302)]
    block = VoluntaryBlock.objects.get(subscriber=payer)
    assert (block.start_date, block.end_date, block.cost) == (
        date(2026, 3, 20), date(2026, 3, 31), D("50.00"))
    assert block.cost_operation.amount == D("-50.00")
    assert Account.objects.get(pk=payer.pk).balance == D("950.00")
    payer.refresh_from_db()
    assert payer.voluntary_blocked is False  # starts on the 20th
    assert messages_of(response) == [
        "Voluntary block from 03/20/2026 to 03/31/2026 set. Its cost, 50.00, is charged."]
    assert buttons(admin_client, payer) == {"vblock_lift"}  # a planned block can be cancelled


@pytest.mark.parametrize(("start", "end", "text"), [
    (date(2026, 3, 13), date(2026, 3, 20), texts.VBLOCK_IN_PAST),
    (TODAY, date(2026, 6, 12), texts.VBLOCK_TOO_LONG % 90),  # 91 days
    (date(2026, 3, 20), date(2026, 3, 19), "The block ends before it starts"),
    # billing['vblock.max_start_days'] = 60 by default
    (date(2026, 5, 14), date(2026, 5, 20),
     "A voluntary block can start at most 60 days from today, on 13.05.2026 at the latest"),
])
def test_voluntary_block_bad_dates(admin_client, payer, start, end, text):
    assert refused(admin_client, "vblock", payer, block_data(start, end)) == [text]


def test_voluntary_block_too_short(admin_client, payer, cfg):
    cfg("billing", "vblock.min_days", "7")
    errors = refused(admin_client, "vblock", payer, block_data(TODAY, date(2026, 3, 19)))
    assert errors == [texts.VBLOCK_TOO_SHORT % 7]


def test_voluntary_block_twice(admin_client, payer):
    voluntary_block_create(subscriber=payer, start_date=date(2026, 3, 20),
                           end_date=date(2026, 3, 25), actor="test")
    errors = refused(admin_client, "vblock", payer, block_data(TODAY, date(2026, 3, 16)))
    assert errors == [texts.VBLOCK_ALREADY]


def test_voluntary_block_month_limit(admin_client, payer):
    first = voluntary_block_create(subscriber=payer, start_date=TODAY,
                                   end_date=date(2026, 3, 15), actor="test")
    assert admin_client.post(url("vblock_lift", payer)).status_code == 302
    assert VoluntaryBlock.objects.get(pk=first.pk).ended_at is not None
    errors = refused(admin_client, "vblock", payer, block_data(date(2026, 3, 20),
                                                               date(2026, 3, 25)))
    assert errors == [texts.VBLOCK_MONTH_LIMIT]


def test_voluntary_block_cost_needs_the_money(admin_client, debtor, cfg):
    cfg("billing", "vblock.cost", "50.00")
    errors = refused(admin_client, "vblock", debtor, block_data(TODAY, date(2026, 3, 20)))
    assert errors == [texts.VBLOCK_NO_FUNDS % "50.00"]


def test_voluntary_block_missing_dates_are_field_errors(admin_client, payer):
    before = state()
    response = admin_client.post(url("vblock", payer), {"start_date": "", "end_date": "x"})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"start_date", "end_date"}
    assert state() == before


# --- Lifting a voluntary block ----------------------------------------------------------


def test_lift_page_shows_the_block(admin_client, payer):
    voluntary_block_create(subscriber=payer, start_date=TODAY, end_date=date(2026, 3, 23),
                           actor="test")
    response = admin_client.get(url("vblock_lift", payer))
    assert response.status_code == 200
    assert "Voluntary block from 03/14/2026 to 03/23/2026." in response.content.decode()


def test_lift_ends_the_block_now(admin_client, payer):
    block = voluntary_block_create(subscriber=payer, start_date=TODAY,
                                   end_date=date(2026, 3, 23), actor="test")
    with at(TODAY, 15):
        response = admin_client.post(url("vblock_lift", payer), follow=True)
    assert response.redirect_chain == [(url("change", payer), 302)]
    block.refresh_from_db()
    assert block.ended_at == datetime(2026, 3, 14, 15, 0, tzinfo=MSK)
    assert block.end_date == date(2026, 3, 23)  # kept: the history says what was asked
    payer.refresh_from_db()
    assert payer.voluntary_blocked is False
    actions = list(AuditEntry.objects.filter(subscriber=payer, actor="admin:admin")
                   .order_by("pk").values_list("action", flat=True))
    assert actions == ["voluntary_block_end", "voluntary_block_off"]
    assert messages_of(response) == ["Voluntary block from 03/14/2026 to 03/23/2026 lifted."]
    assert "vblock_lift" not in buttons(admin_client, payer)


def test_lift_cancels_a_planned_block(admin_client, payer):
    block = voluntary_block_create(subscriber=payer, start_date=date(2026, 3, 20),
                                   end_date=date(2026, 3, 25), actor="test")
    assert admin_client.post(url("vblock_lift", payer)).status_code == 302
    block.refresh_from_db()
    assert block.ended_at == datetime(2026, 3, 14, 12, 0, tzinfo=MSK)
    payer.refresh_from_db()
    assert payer.voluntary_blocked is False


def test_lift_without_a_block_changes_nothing(admin_client, payer):
    before = state()
    response = admin_client.post(url("vblock_lift", payer), follow=True)
    assert response.redirect_chain == [(url("change", payer), 302)]
    assert messages_of(response) == ["There is no voluntary block to lift"]
    assert state() == before
    assert admin_client.get(url("vblock_lift", payer)).status_code == 302


def test_block_buttons_follow_the_block(admin_client, payer):
    assert buttons(admin_client, payer) == {"vblock"}
    voluntary_block_create(subscriber=payer, start_date=TODAY, end_date=date(2026, 3, 15),
                           actor="test")
    assert buttons(admin_client, payer) == {"vblock_lift"}
    with at(date(2026, 3, 16), 12):  # over by itself
        assert voluntary_blocks_apply() == 1
        assert buttons(admin_client, payer) == {"vblock"}


# --- Who may ----------------------------------------------------------------------------


def staff(django_user_model, client, *codenames):
    user = django_user_model.objects.create_user("operator", password="pw-operator-1",
                                                 is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client.force_login(user)
    return user


ALL_FORMS = [
    ("promised", {"amount": "", "days": ""}),
    ("vblock", {"start_date": "2026-03-14", "end_date": "2026-03-20"}),
    ("vblock_lift", {}),
]


def test_non_staff_cannot_reach_the_pages(client, django_user_model, debtor):
    user = django_user_model.objects.create_user("someone", password="pw-someone-1")
    user.user_permissions.add(*Permission.objects.all())
    client.force_login(user)
    voluntary_block_create(subscriber=debtor, start_date=date(2026, 3, 20),
                           end_date=date(2026, 3, 25), actor="test")
    before = state()
    for name, data in ALL_FORMS:
        for response in (client.get(url(name, debtor)), client.post(url(name, debtor), data)):
            assert response.status_code == 302
            assert response["Location"].startswith(reverse("admin:login"))
    assert state() == before


def test_anonymous_cannot_reach_the_pages(client, debtor):
    before = state()
    for name, data in ALL_FORMS:
        response = client.post(url(name, debtor), data)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))
    assert state() == before


def test_viewer_gets_403_and_no_buttons(client, django_user_model, debtor):
    staff(django_user_model, client, "view_subscriber", "add_promisedpayment",
          "add_voluntaryblock", "change_voluntaryblock")
    assert buttons(client, debtor) == set()
    before = state()
    for name, data in ALL_FORMS:
        assert client.get(url(name, debtor)).status_code == 403
        assert client.post(url(name, debtor), data).status_code == 403
    assert state() == before


def test_each_page_needs_its_billing_permission(client, django_user_model, debtor):
    staff(django_user_model, client, "view_subscriber", "change_subscriber",
          "add_promisedpayment")
    assert buttons(client, debtor) == {"promised"}
    before = state()
    assert client.post(url("vblock", debtor), ALL_FORMS[1][1]).status_code == 403
    voluntary_block_create(subscriber=debtor, start_date=date(2026, 3, 20),
                           end_date=date(2026, 3, 25), actor="test")
    assert "vblock_lift" not in buttons(client, debtor)
    assert client.post(url("vblock_lift", debtor)).status_code == 403
    assert VoluntaryBlock.objects.get(subscriber=debtor).ended_at is None
    assert client.post(url("promised", debtor), {}).status_code == 302
    assert Account.objects.get(pk=debtor.pk).promised_amount == D("300.00")
    assert len(state()["promised"]) == len(before["promised"]) + 1


# --- In Russian (the admin's default) ----------------------------------------------------


def test_russian_page_buttons_and_carbon_refusal(admin_client, debtor, payer, cfg):
    cfg("app", "language", "ru")
    html = change_page(admin_client, debtor)
    assert f'href="{url("promised", debtor)}">Обещанный платёж</a>' in html
    assert f'href="{url("vblock", debtor)}">Добровольная блокировка</a>' in html
    cfg("billing", "promised.only_when_cut_off", "yes")
    before = state()
    response = admin_client.post(url("promised", payer), {"amount": "", "days": ""})
    assert state() == before
    assert "Обещанный платеж доступен только для разблокировки" in response.content.decode()
    response = admin_client.post(url("promised", debtor), {}, follow=True)
    assert messages_of(response) == [
        "Обещанный платёж на сумму 300,00 предоставлен до 17.03.2026 12:00."]
