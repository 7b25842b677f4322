"""The database itself refuses what the ledger rules forbid, with real commits (no test
transaction around them): rows written past the services still cannot break the rules."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from asr_billing.finance.models import Account, Operation, OperationType
from asr_billing.network.models import Login, Nas
from asr_billing.subscribers.models import Subscriber
from asr_billing.tariffs.models import Service

pytestmark = pytest.mark.django_db(transaction=True)

D = Decimal
MARCH = date(2023, 3, 1)


def insert(account, **fields):
    fields.setdefault("balance_after", fields["amount"])
    with transaction.atomic():
        return Operation.objects.create(account=account, **fields)


def refused(account, **fields) -> None:
    """The row is rejected by the database and nothing is left behind."""
    count = Operation.objects.count()
    with pytest.raises(IntegrityError):
        insert(account, **fields)
    assert Operation.objects.count() == count


@pytest.fixture
def account(subscriber):
    return Account.objects.get(pk=subscriber.pk)


def test_duplicate_payment_is_rejected_by_the_database(account, operator):
    first = insert(account, type=OperationType.PAYMENT, amount=D("100.00"),
                   pay_operator=operator, external_id="SB-1")
    assert Operation.objects.filter(pk=first.pk).exists()  # committed
    refused(account, type=OperationType.PAYMENT, amount=D("100.00"), pay_operator=operator,
            external_id="SB-1")
    # Even another amount, type or account with the same (operator, id).
    refused(account, type=OperationType.CORRECTION, amount=D("5.00"), pay_operator=operator,
            external_id="SB-1")
    # Without an external id there is nothing to be unique about.
    insert(account, type=OperationType.PAYMENT, amount=D("100.00"), pay_operator=operator)
    insert(account, type=OperationType.PAYMENT, amount=D("100.00"), pay_operator=operator)
    assert Operation.objects.count() == 3


def test_external_id_needs_an_operator(account):
    refused(account, type=OperationType.PAYMENT, amount=D("1.00"), external_id="X")


def test_zero_amount_is_rejected(account):
    for kind in OperationType.values:
        refused(account, type=kind, amount=D("0.00"))


def test_positive_charge_is_rejected(account, tariff):
    refused(account, type=OperationType.CHARGE, amount=D("600.00"), tariff=tariff,
            period_start=MARCH)
    refused(account, type=OperationType.AGENT_INVOICE, amount=D("1.00"))


def test_charge_without_its_exactly_once_key_is_rejected(account, tariff):
    service = Service.objects.create(name="Static IP", fee=D("150.00"))
    charge = {"type": OperationType.CHARGE, "amount": D("-10.00"), "period_end": MARCH}
    refused(account, **charge, period_start=MARCH)  # neither tariff nor service
    refused(account, **charge, period_start=MARCH, tariff=tariff, service=service)  # both
    refused(account, **charge, tariff=tariff)  # no period: would escape the unique index
    insert(account, **charge, period_start=MARCH, tariff=tariff)
    insert(account, **charge, period_start=MARCH, service=service)
    assert Operation.objects.count() == 2


def test_negative_payment_is_rejected(account):
    refused(account, type=OperationType.PAYMENT, amount=D("-100.00"))


def test_reversal_without_a_link_is_rejected(account):
    refused(account, type=OperationType.REVERSAL, amount=D("-100.00"))


def test_a_link_on_anything_but_a_reversal_is_rejected(account):
    payment = insert(account, type=OperationType.PAYMENT, amount=D("100.00"))
    refused(account, type=OperationType.CORRECTION, amount=D("-100.00"), reverses=payment)


def test_second_reversal_of_one_operation_is_rejected(account):
    payment = insert(account, type=OperationType.PAYMENT, amount=D("100.00"))
    insert(account, type=OperationType.REVERSAL, amount=D("-100.00"), reverses=payment)
    refused(account, type=OperationType.REVERSAL, amount=D("-100.00"), reverses=payment)


def test_duplicate_tariff_charge_for_a_period_is_rejected(account, tariff):
    insert(account, type=OperationType.CHARGE, amount=D("-600.00"), tariff=tariff,
           period_start=MARCH, period_end=date(2023, 3, 31))
    refused(account, type=OperationType.CHARGE, amount=D("-600.00"), tariff=tariff,
            period_start=MARCH, period_end=date(2023, 3, 31))
    refused(account, type=OperationType.CHARGE, amount=D("-1.00"), tariff=tariff,
            period_start=MARCH)
    # The next period, and a reversal that names the tariff, are fine.
    insert(account, type=OperationType.CHARGE, amount=D("-600.00"), tariff=tariff,
           period_start=date(2023, 4, 1))
    assert Operation.objects.count() == 2


def test_duplicate_service_charge_for_a_period_is_rejected(account):
    service = Service.objects.create(name="Static IP", fee=D("150.00"))
    insert(account, type=OperationType.CHARGE, amount=D("-150.00"), service=service,
           period_start=MARCH)
    refused(account, type=OperationType.CHARGE, amount=D("-150.00"), service=service,
            period_start=MARCH)


def test_period_must_not_end_before_it_starts(account, tariff):
    refused(account, type=OperationType.CHARGE, amount=D("-1.00"), tariff=tariff,
            period_start=MARCH, period_end=date(2023, 2, 28))


def test_duplicate_1c_code_is_rejected(account):
    insert(account, type=OperationType.PAYMENT, amount=D("1.00"), code1c="ПП-1")
    refused(account, type=OperationType.PAYMENT, amount=D("2.00"), code1c="ПП-1")


def test_account_limits_cannot_be_negative(account):
    for field in ("credit_limit", "promised_amount"):
        with pytest.raises(IntegrityError), transaction.atomic():
            Account.objects.filter(pk=account.pk).update(**{field: D("-0.01")})
    account.refresh_from_db()
    assert (account.credit_limit, account.promised_amount) == (D("0.00"), D("0.00"))


def test_contract_number_and_login_ip_uniqueness(make_subscriber, make_login, nas):
    first = make_subscriber()
    with pytest.raises(IntegrityError), transaction.atomic():
        Subscriber.objects.create(group=first.group, name="Копия",
                                  contract_number=first.contract_number)
    make_login(first, "one", ip="10.20.30.41")
    with pytest.raises(IntegrityError), transaction.atomic():
        Login.objects.create(subscriber=first, login="two", ip="10.20.30.41")
    Login.objects.create(subscriber=first, login="three", ip="10.20.30.41", enabled=False)
    with pytest.raises(IntegrityError), transaction.atomic():
        Nas.objects.create(name="Copy", ip=nas.ip)
    assert Login.objects.count() == 2
