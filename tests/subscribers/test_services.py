"""Subscriber services: creation, contract numbers, admin block, tariff and credit."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import transaction

from asr_billing.core.errors import Conflict, InvalidInput
from asr_billing.core.models import AuditEntry, Counter
from asr_billing.finance.models import Account
from asr_billing.finance.services import payment_register
from asr_billing.subscribers.models import Subscriber
from asr_billing.subscribers.services import (
    contract_number_next,
    subscriber_block,
    subscriber_create,
    subscriber_credit_set,
    subscriber_tariff_set,
    subscriber_unblock,
    subscriber_update,
)
from asr_billing.tariffs.models import Tariff
from tests.conftest import ACTOR, db_state

pytestmark = pytest.mark.usefixtures("english")

D = Decimal


def audit(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("pk"))


def fresh(subscriber) -> Subscriber:
    return Subscriber.objects.get(pk=subscriber.pk)


# -- subscriber_create ---------------------------------------------------------------------


def test_create_makes_the_subscriber_its_account_and_an_audit_row(group, tariff):
    subscriber = subscriber_create(
        name="  ООО «Ромашка»  ",
        group=group,
        tariff=tariff,
        actor=ACTOR,
        is_company=True,
        email="buh@romashka.example",
        sms_phone="+79001234567",
        address="г. Москва, ул. Ленина, 1",
        code1c="00-000123",
        credit_limit=D("300"),
    )
    subscriber = fresh(subscriber)
    assert subscriber.name == "ООО «Ромашка»"
    assert subscriber.contract_number == "BILL0000001"
    assert (subscriber.group, subscriber.tariff, subscriber.is_company) == (group, tariff, True)
    assert (subscriber.email, subscriber.code1c) == ("buh@romashka.example", "00-000123")
    assert subscriber.negbal is False
    account = Account.objects.get(pk=subscriber.pk)
    assert (account.balance, account.credit_limit) == (D("0.00"), D("300.00"))
    [entry] = audit("subscriber_create")
    assert entry.subscriber_id == subscriber.pk
    assert entry.new == {
        "contract_number": "BILL0000001",
        "name": "ООО «Ромашка»",
        "tariff": tariff.pk,
        "credit_limit": "300.00",
    }


def test_contract_numbers_follow_the_pattern_and_skip_numbers_taken_by_hand(make_subscriber):
    assert make_subscriber().contract_number == "BILL0000001"
    make_subscriber(contract_number="BILL0000002")
    make_subscriber(contract_number="BILL0000003")
    make_subscriber(contract_number="  BILL0000005 ")
    assert make_subscriber().contract_number == "BILL0000004"
    assert make_subscriber().contract_number == "BILL0000006"
    assert Counter.objects.get(name="contract_number").value == 6


def test_contract_pattern_comes_from_the_config_file(make_subscriber, home_config):
    assert make_subscriber().contract_number == "BILL0000001"
    home_config("app", "contract.prefix", "ACME-")
    home_config("app", "contract.digits", "4")
    assert make_subscriber().contract_number == "ACME-0002"
    home_config("app", "contract.prefix", "")
    assert make_subscriber().contract_number == "0003"
    home_config("app", "contract.digits", "1")
    created = [make_subscriber().contract_number for _ in range(8)]
    assert created == ["4", "5", "6", "7", "8", "9", "10", "11"]


def test_contract_number_next_inside_a_transaction(db):
    with transaction.atomic():
        assert contract_number_next() == "BILL0000001"
        assert contract_number_next() == "BILL0000002"


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"name": ""}, InvalidInput, "Name is required"),
        ({"name": "   "}, InvalidInput, "Name is required"),
        ({"name": "x" * 256}, InvalidInput, "Name is longer than 255 characters"),
        ({"contract_number": "C" * 33}, InvalidInput,
         "Contract number is longer than 32 characters"),
        ({"credit_limit": D("-0.01")}, InvalidInput, "Credit limit cannot be negative"),
        ({"email": "not an e-mail"}, InvalidInput, "not an e-mail is not an e-mail address"),
        ({"email": "a@" + "b" * 70 + ".ru"}, InvalidInput,
         "a@" + "b" * 70 + ".ru is not an e-mail address"),
        ({"email": "a@" + "b" * 250 + ".ru"}, InvalidInput,
         "E-mail is longer than 254 characters"),
        ({"sms_phone": "9" * 33}, InvalidInput, "Phone for SMS is longer than 32 characters"),
        ({"contract_number": "TAKEN1"}, Conflict, "Contract number TAKEN1 is taken"),
        ({"code1c": "1C-TAKEN"}, Conflict, "1C code 1C-TAKEN is taken"),
    ],
)
def test_bad_subscriber_is_refused(make_subscriber, kwargs, error, message):
    make_subscriber(contract_number="TAKEN1", code1c="1C-TAKEN")
    before = db_state()
    with pytest.raises(error) as info:
        make_subscriber(**{"name": "Петров", **kwargs})
    assert str(info.value) == message
    assert db_state() == before


def test_a_refused_creation_does_not_use_up_a_contract_number(make_subscriber):
    make_subscriber(code1c="1C-TAKEN")
    with pytest.raises(Conflict):
        make_subscriber(code1c="1C-TAKEN")
    assert make_subscriber().contract_number == "BILL0000002"


def test_create_refuses_a_float_credit_limit(make_subscriber):
    before = db_state()
    with pytest.raises(TypeError):
        make_subscriber(credit_limit=100.0)
    assert db_state() == before


# -- admin block ---------------------------------------------------------------------------


def test_block_and_unblock(subscriber):
    blocked = subscriber_block(subscriber=subscriber, actor=ACTOR, reason="  Заявление  ")
    assert (blocked.admin_blocked, blocked.admin_block_reason) == (True, "Заявление")
    assert fresh(subscriber).admin_blocked is True
    assert fresh(subscriber).is_blocked is True
    [entry] = audit("admin_block")
    assert (entry.old, entry.new, entry.message) == (
        {"admin_blocked": False}, {"admin_blocked": True}, "Заявление")

    before = db_state()
    with pytest.raises(Conflict) as info:
        subscriber_block(subscriber=subscriber, actor=ACTOR)
    assert str(info.value) == "The subscriber is already blocked"
    assert db_state() == before

    unblocked = subscriber_unblock(subscriber=subscriber, actor=ACTOR)
    assert (unblocked.admin_blocked, unblocked.admin_block_reason) == (False, "")
    assert fresh(subscriber).admin_blocked is False
    [entry] = audit("admin_unblock")
    assert entry.new == {"admin_blocked": True} | {"admin_blocked": False}

    before = db_state()
    with pytest.raises(Conflict) as info:
        subscriber_unblock(subscriber=subscriber, actor=ACTOR)
    assert str(info.value) == "The subscriber is not blocked"
    assert db_state() == before


def test_block_reason_too_long_is_refused(subscriber):
    before = db_state()
    with pytest.raises(InvalidInput) as info:
        subscriber_block(subscriber=subscriber, actor=ACTOR, reason="x" * 256)
    assert str(info.value) == "Reason is longer than 255 characters"
    assert db_state() == before


# -- descriptive data ---------------------------------------------------------------------------


def test_update_changes_and_audits_only_what_changed(subscriber, group):
    from datetime import date

    from asr_billing.subscribers.models import Group

    other = Group.objects.create(name="Other")
    subscriber_update(subscriber=subscriber, actor=ACTOR, name="  Иванов И. И. ", group=other,
                      connected_on=date(2024, 3, 1), address="Lenina 1", comments="")
    now = fresh(subscriber)
    assert (now.name, now.group, now.connected_on, now.address) == (
        "Иванов И. И.", other, date(2024, 3, 1), "Lenina 1")
    [entry] = audit("subscriber_update")
    assert entry.old == {"name": "Иванов Иван Иванович", "group": group.pk,
                         "connected_on": None, "address": ""}
    assert entry.new == {"name": "Иванов И. И.", "group": other.pk,
                         "connected_on": "2024-03-01", "address": "Lenina 1"}
    subscriber_update(subscriber=subscriber, actor=ACTOR, name="Иванов И. И.")  # no change
    assert len(audit("subscriber_update")) == 1


@pytest.mark.parametrize("fields, message", [
    ({"name": "  "}, "Name is required"),
    ({"group": None}, "Group is required"),
    ({"address": "x" * 501}, "Address is longer than 500 characters"),
    ({"connected_on": "2024-03-01"}, "The connection date must be a date"),
])
def test_update_refuses_bad_details_and_changes_nothing(subscriber, fields, message):
    before = db_state()
    with pytest.raises(InvalidInput) as info:
        subscriber_update(subscriber=subscriber, actor=ACTOR, **fields)
    assert str(info.value) == message
    assert db_state() == before
    assert fresh(subscriber).name == "Иванов Иван Иванович"


# -- tariff and credit --------------------------------------------------------------------------


def test_tariff_change_is_audited_and_recomputes_negbal(subscriber, tariff):
    strict = Tariff.objects.create(name="Strict", fee=D("300"), disconnect_threshold=D("10.00"))
    subscriber_tariff_set(subscriber=subscriber, tariff=strict, actor=ACTOR)
    assert fresh(subscriber).tariff == strict
    assert fresh(subscriber).negbal is True  # 0 is below the new threshold of 10
    [entry] = audit("tariff_change")
    assert entry.old == {"tariff": tariff.pk}
    assert entry.new["tariff"] == strict.pk  # and "from": the day charging follows it
    assert len(audit("negbal_on")) == 1

    subscriber_tariff_set(subscriber=subscriber, tariff=strict, actor=ACTOR)  # no change
    assert len(audit("tariff_change")) == 1

    subscriber_tariff_set(subscriber=subscriber, tariff=None, actor=ACTOR)
    assert fresh(subscriber).tariff is None
    assert fresh(subscriber).negbal is False
    assert audit("tariff_change")[-1].new["tariff"] is None


def test_tariff_set_is_the_billing_change_now(subscriber, tariff):
    """subscriber_tariff_set and the admin change a tariff the same way: billing's
    tariff_change_now records the change, so charging follows the new tariff from tomorrow
    (a bare update of the column would let the run charge today and missed days on it)."""
    from datetime import timedelta

    from asr_billing.billing.models import TariffChange
    from asr_billing.billing.periods import local_today
    from asr_billing.core import runtime

    other = Tariff.objects.create(name="Other", fee=D("900.00"))
    subscriber_tariff_set(subscriber=subscriber, tariff=other, actor=ACTOR)
    change = TariffChange.objects.get(subscriber=subscriber)
    assert (change.old_tariff, change.new_tariff, change.scheduled) == (tariff, other, False)
    assert change.effective_date == local_today(runtime.current().time_zone) + timedelta(days=1)
    subscriber_tariff_set(subscriber=subscriber, tariff=other, actor=ACTOR)  # no change
    assert TariffChange.objects.filter(subscriber=subscriber).count() == 1


def test_credit_limit_change(subscriber):
    payment_register(subscriber=subscriber, amount=D("1.00"), actor=ACTOR)
    subscriber_credit_set(subscriber=subscriber, credit_limit=D("250.5"), actor=ACTOR)
    assert Account.objects.get(pk=subscriber.pk).credit_limit == D("250.50")
    [entry] = audit("credit_change")
    assert (entry.old, entry.new) == ({"credit_limit": "0.00"}, {"credit_limit": "250.50"})
    subscriber_credit_set(subscriber=subscriber, credit_limit=D("250.50"), actor=ACTOR)
    assert len(audit("credit_change")) == 1  # unchanged: no audit row


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        (D("-1"), InvalidInput, "Credit limit cannot be negative"),
        (D("1e12"), InvalidInput, "Credit limit is too large: at most 999999999999.99"),
        (D("1e13"), InvalidInput, "Credit limit is too large: at most 999999999999.99"),
        ("1" * 30, InvalidInput, "Credit limit is too large: at most 999999999999.99"),
        (D("-1E+999999"), InvalidInput, "Credit limit is too large: at most 999999999999.99"),
        (D("999999999999.995"), InvalidInput,
         "Credit limit is too large: at most 999999999999.99"),
        (D("NaN"), InvalidInput, "Credit limit is not a valid amount"),
        ("abc", InvalidInput, "Credit limit is not a valid amount"),
        (D("0.005"), InvalidInput, "Credit limit has more than 2 decimal places"),
        (100.0, TypeError, "money must not be a float or bool; pass Decimal, int or str"),
    ],
)
def test_bad_credit_limit_is_refused(subscriber, value, error, message):
    before = db_state()
    with pytest.raises(error) as info:
        subscriber_credit_set(subscriber=subscriber, credit_limit=value, actor=ACTOR)
    assert str(info.value) == message
    assert db_state() == before
