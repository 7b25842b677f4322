"""Registry files and a ledger with every kind of difference, shared by the
reconciliation tests (service, command, admin, PostgreSQL concurrency)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from asr_billing.finance.models import PaymentOperator
from asr_billing.finance.reconcile import RegistrySource
from asr_billing.finance.reconcile_registry import RegistrySettings
from asr_billing.finance.services import operation_reverse, payment_register
from tests.conftest import ACTOR

D = Decimal
MSK = ZoneInfo("Europe/Moscow")
OPERATOR = "SBER_REG"
SOURCE = RegistrySource(
    gateway="sberbank.reg", operator_code=OPERATOR, account_kind="contract",
    settings=RegistrySettings(format="sberbank"),
)


def sber_registry(rows, *, header="Реестр платежей за 15/03/2024", encoding="cp1251") -> bytes:
    """A Sberbank registry: ``rows`` of (txn id, account, amount text, "HH:MM:SS"), all on
    15/03/2024, fee 1% rounded down to kopecks, and a correct total line."""
    lines = [header] if header else []
    total, fees = D("0.00"), D("0.00")
    for txn, account, amount, at in rows:
        value = D(amount.replace(",", "."))
        fee = (value / 100).quantize(D("0.01"), rounding="ROUND_DOWN")
        lines.append(f"8623;0150;00123;{txn};{amount};{fee};15/03/2024;{at};CLIENTNO:{account}")
        total, fees = total + value, fees + fee
    lines.append(f"={len(rows)};{total};{fees}")
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def at(hour: int, minute: int = 0, day: int = 15) -> datetime:
    return datetime(2024, 3, day, hour, minute, tzinfo=MSK)


@dataclass
class Ledger:
    operator: PaymentOperator
    a: object  # subscribers 100001, 100002, 100003
    b: object
    c: object
    registry: bytes


# Registry rows of the full scenario, in file order (line = index + 2: one header line).
FULL_ROWS = [
    ("T1", "100001", "500.00", "09:00:00"),  # matched
    ("T2", "100002", "350.00", "10:00:00"),  # the billing has 300.00: mismatched
    ("T3", "100003", "200.00", "11:00:00"),  # reversed in the billing
    ("T5", "100003", "150,00", "12:00:00"),  # missing in the billing (posted on request)
    ("T9", "100002", "40.00", "13:00:00"),  # the billing credited 100001: mismatched
    ("T10", "999999", "10.00", "14:00:00"),  # missing, and its account names nobody
]


def full_ledger(make_subscriber, *, rows=None) -> Ledger:
    """The billing side of the full scenario (operator SBER_REG, 15/03/2024 Moscow)."""
    operator = PaymentOperator.objects.create(code=OPERATOR, name="Sberbank registry test")
    other = PaymentOperator.objects.create(code="OTHER_REG", name="Another operator")
    a = make_subscriber(contract_number="100001")
    b = make_subscriber(contract_number="100002")
    c = make_subscriber(contract_number="100003")

    def pay(who, amount, txn, when, op=operator):
        return payment_register(subscriber=who, amount=D(amount), actor=ACTOR, operator=op,
                                external_id=txn, op_date=when).operation

    pay(a, "500.00", "T1", at(9, 1))
    pay(b, "300.00", "T2", at(10, 1))
    operation_reverse(operation=pay(c, "200.00", "T3", at(11, 1)), actor=ACTOR)
    pay(a, "100.00", "T4", at(12, 30))  # missing in the registry
    operation_reverse(operation=pay(b, "50.00", "T6", at(13, 30)), actor=ACTOR)  # agrees
    pay(a, "70.00", "T7", at(0, 0, day=16))  # the next day: not this registry's
    pay(a, "40.00", "T9", at(13, 1))
    pay(a, "25.00", "X1", at(12), op=other)  # another operator
    pay(a, "33.00", "", at(15), op=None)  # no operator (the office): not compared
    return Ledger(operator, a, b, c, sber_registry(FULL_ROWS if rows is None else rows))
