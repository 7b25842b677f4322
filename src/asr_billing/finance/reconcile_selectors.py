"""Reads of a registry reconciliation: the operator's payments by transaction id and by
day, and the subscribers that registry accounts name. Set-based: a query per chunk of
ids, never one per registry row."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import OuterRef, Subquery

from asr_billing.finance.models import Operation, OperationType
from asr_billing.subscribers.models import Subscriber
from asr_billing.subscribers.selectors import SubscriberRef, login_ip

# Ids per IN (...) list: far below SQLite's and PostgreSQL's parameter limits.
CHUNK = 500
ACCOUNT_KINDS = ("contract", "login", "ip", "id")
MAX_ID_DIGITS = 18  # a bigint holds every 18-digit number


@dataclass(frozen=True)
class BillingPayment:
    """A payment of the ledger as a reconciliation sees it. ``amount`` in roubles."""

    operation_id: int
    txn_id: str
    subscriber_id: int
    contract_number: str
    amount: Decimal
    op_date: datetime
    reversal_id: int | None


def _chunks(values: list, size: int = CHUNK) -> Iterator[list]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _payments(queryset) -> list[BillingPayment]:
    reversal = Operation.objects.filter(reverses=OuterRef("pk")).values("pk")[:1]
    rows = (
        queryset.filter(type=OperationType.PAYMENT)
        .annotate(reversal_id=Subquery(reversal))
        .order_by("op_date", "pk")
        .values_list(
            "pk", "external_id", "account_id", "account__subscriber__contract_number",
            "amount", "op_date", "reversal_id",
        )
    )
    return [BillingPayment(*row) for row in rows]


def payments_by_txn(*, operator_id: int, txn_ids: Iterable[str]) -> dict[str, BillingPayment]:
    """The operator's payments with these transaction (external) ids: id -> payment."""
    found: dict[str, BillingPayment] = {}
    for chunk in _chunks(sorted(set(txn_ids))):
        for payment in _payments(
            Operation.objects.filter(pay_operator_id=operator_id, external_id__in=chunk)
        ):
            found[payment.txn_id] = payment
    return found


def payments_between(*, operator_id: int, start: datetime, end: datetime) -> list[BillingPayment]:
    """The operator's payments dated in [start, end), reversed ones included."""
    return _payments(
        Operation.objects.filter(
            pay_operator_id=operator_id, op_date__gte=start, op_date__lt=end
        )
    )


def payers_by_account(*, kind: str, accounts: Iterable[str]) -> dict[str, SubscriberRef]:
    """Registry account -> subscriber, the way the gateway instance finds its payer
    (payments['<type>.<name>.account']): by contract number, login, the IP of an enabled
    login, or subscriber id. Accounts that name nobody are left out."""
    from asr_billing.network.models import Login

    if kind not in ACCOUNT_KINDS:
        raise ValueError(f"unknown account kind {kind!r}")
    wanted = sorted({a.strip() for a in accounts if a.strip()})
    found: dict[str, SubscriberRef] = {}
    fields = ("pk", "contract_number", "name")
    for chunk in _chunks(wanted):
        if kind == "contract":
            for pk, contract, name in Subscriber.objects.filter(
                contract_number__in=chunk
            ).values_list(*fields):
                found[contract] = SubscriberRef(pk, contract, name)
        elif kind == "id":
            ids = {int(a): a for a in chunk
                   if a.isascii() and a.isdigit() and len(a) <= MAX_ID_DIGITS}
            for pk, contract, name in Subscriber.objects.filter(pk__in=ids).values_list(*fields):
                found[ids[pk]] = SubscriberRef(pk, contract, name)
        elif kind == "login":
            for login, pk, contract, name in Login.objects.filter(login__in=chunk).values_list(
                "login", "subscriber_id", "subscriber__contract_number", "subscriber__name"
            ):
                found[login] = SubscriberRef(pk, contract, name)
        else:  # ip: as stored (IPv4-mapped IPv6 as IPv4), of an enabled login
            ips: dict[str, list[str]] = {}
            for account in chunk:
                ip = login_ip(account)
                if ip is not None:
                    ips.setdefault(ip, []).append(account)
            for ip, pk, contract, name in Login.objects.filter(
                ip__in=list(ips), enabled=True
            ).values_list("ip", "subscriber_id", "subscriber__contract_number",
                          "subscriber__name"):
                for account in ips.get(str(ip), []):
                    found[account] = SubscriberRef(pk, contract, name)
    return found


def txn_ids_in_stored_registries(*, operator_id: int, txn_ids: Iterable[str]) -> set[str]:
    """Those of ``txn_ids`` that a stored report of the operator lists as a registry row."""
    from asr_billing.finance.models_reconcile import ReconciliationLine

    found: set[str] = set()
    for chunk in _chunks(sorted(set(txn_ids))):
        found.update(
            ReconciliationLine.objects.filter(
                reconciliation__operator_id=operator_id, line_no__isnull=False,
                txn_id__in=chunk,
            ).values_list("txn_id", flat=True)
        )
    return found
