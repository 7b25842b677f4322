"""Registry reconciliation: compare a payment system's daily registry with the ledger,
optionally post what the billing is missing, and store the report.

Matching is by (payment operator, transaction id) — the key every payment is unique on —
so a payment the bank dated 23:59 and the billing 00:01 still matches. Each registry row
is one of:

- ``matched``: the billing has it with the same amount and subscriber;
- ``missing_in_billing``: the billing has no payment with that id. With ``post_missing``
  it is posted through ``payment_register`` under the gateway's operator with the
  registry's transaction id as external id and the registry's time as the payment date —
  exactly once by the ledger's constraint, so a second run (or a concurrent one) finds it
  and posts nothing. The gateway's limits and who-may-pay rules do not apply: the bank
  has taken the money already;
- ``mismatched``: the billing has it with another amount, or credited another subscriber
  than the registry's account names (nothing is changed: an operator decides);
- ``reversed``: the billing has it but reversed it (cancelled) while the bank settled it.

and the operator's billing payments dated in the registry's days (app['time_zone']) that
the registry does not list are ``missing_in_registry`` — unless they are reversed (a
cancelled payment the bank did not settle agrees) or a stored report lists them in
another registry of the operator (the bank's day and ours differ around midnight).

Each posting is its own transaction (the lean path, autocommit on PostgreSQL): no lock is
held across rows, so two reconciliations of overlapping registries cannot deadlock, and
a crash half-way leaves posted payments that the next run matches. The report and its
lines are written afterwards in one transaction with an audit entry. A registry that does
not parse is refused before anything is read or written.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from asr_billing.core import runtime
from asr_billing.core.audit import Actor, actor_fields, audit_record
from asr_billing.core.errors import ApplicationError, InvalidInput, NotFound
from asr_billing.core.money import ZERO, fmt
from asr_billing.finance.models import PaymentOperator
from asr_billing.finance.models_reconcile import Category, Reconciliation, ReconciliationLine
from asr_billing.finance.reconcile_registry import (
    Registry,
    RegistryRow,
    RegistrySettings,
    registry_parse,
)
from asr_billing.finance.reconcile_selectors import (
    BillingPayment,
    payers_by_account,
    payments_between,
    payments_by_txn,
    txn_ids_in_stored_registries,
)
from asr_billing.finance.services import payment_register

MAX_REGISTRY_BYTES = 20 * 1024 * 1024  # a day of a busy bank is a few MB


@dataclass(frozen=True)
class RegistrySource:
    """A gateway instance as a reconciliation needs it (finance/reconcile_config.py reads
    it from cfg/config): its name, its payment operator's code, what its account field
    holds (contract | login | ip | id) and how its registries are read."""

    gateway: str
    operator_code: str
    account_kind: str
    settings: RegistrySettings = field(default_factory=RegistrySettings)


def registry_reconcile(
    *,
    source: RegistrySource,
    data: bytes,
    file_name: str,
    actor: Actor,
    post_missing: bool = False,
    fmt: str | None = None,
    day: date | None = None,
) -> Reconciliation:
    """Parse the registry file ``data`` and reconcile it (see the module docstring).

    ``day``: the registry's day when it has no rows or spans several days (default: the
    days of its rows). Raises RegistryError (with the line) for a malformed file and
    InvalidInput / NotFound for an unusable source — in both cases nothing is written.
    """
    if len(data) > MAX_REGISTRY_BYTES:
        raise InvalidInput(
            _("The registry is larger than %(mb)s MB") % {"mb": MAX_REGISTRY_BYTES // 2**20}
        )
    registry = registry_parse(
        data, settings=source.settings, time_zone=runtime.current().time_zone, fmt=fmt
    )
    return _reconcile(
        gateway=source.gateway,
        operator=_operator(source.operator_code),
        account_kind=source.account_kind,
        registry=registry,
        file_name=file_name,
        file_sha256=hashlib.sha256(data).hexdigest(),
        actor=actor,
        post_missing=post_missing,
        day=day,
    )


def reconciliation_post_missing(
    *, reconciliation: Reconciliation, account_kind: str, actor: Actor
) -> Reconciliation:
    """Reconcile a stored report's registry again, posting what the billing is missing
    (the admin's button): a new report; the old one stays as it was."""
    stored = reconciliation.lines.filter(line_no__isnull=False).order_by("line_no")
    rows = tuple(
        RegistryRow(
            line=line.line_no,
            txn_id=line.txn_id,
            account=line.account,
            amount=line.registry_amount,
            paid_at=line.paid_at,
            fee=line.fee,
        )
        for line in stored
    )
    registry = Registry(format=reconciliation.registry_format, encoding="", rows=rows)
    return _reconcile(
        gateway=reconciliation.gateway,
        operator=reconciliation.operator,
        account_kind=account_kind,
        registry=registry,
        file_name=reconciliation.file_name,
        file_sha256=reconciliation.file_sha256,
        actor=actor,
        post_missing=True,
        day=None,
        period=(reconciliation.date_from, reconciliation.date_to),
    )


def _operator(code: str) -> PaymentOperator:
    operator = PaymentOperator.objects.filter(code=code).first() if code else None
    if operator is None:
        raise NotFound(
            _("Unknown payment operator: %(op)s") % {"op": code}, code="unknown_operator"
        )
    return operator


def _day_bounds(first: date, last: date, zone: str) -> tuple[datetime, datetime]:
    tz = ZoneInfo(zone)
    start = timezone.make_aware(datetime.combine(first, time.min), tz)
    end = timezone.make_aware(datetime.combine(last + timedelta(days=1), time.min), tz)
    return start, end


def _reconcile(
    *,
    gateway: str,
    operator: PaymentOperator,
    account_kind: str,
    registry: Registry,
    file_name: str,
    file_sha256: str,
    actor: Actor,
    post_missing: bool,
    day: date | None,
    period: tuple[date, date] | None = None,
) -> Reconciliation:
    if period is None:
        if day is not None:
            period = (day, day)
        elif registry.rows:
            period = (registry.first_day, registry.last_day)
        else:
            raise InvalidInput(
                _("The registry lists no payments, so its date is unknown: give the date")
            )
    start, end = _day_bounds(*period, runtime.current().time_zone)
    rows = registry.rows
    billing = payments_by_txn(operator_id=operator.pk, txn_ids=[r.txn_id for r in rows])
    payers = payers_by_account(kind=account_kind, accounts=[r.account for r in rows])
    lines = [_classify(row, billing.get(row.txn_id), payers) for row in rows]
    listed = {row.txn_id for row in rows}
    unlisted = [
        payment
        for payment in payments_between(operator_id=operator.pk, start=start, end=end)
        if payment.txn_id not in listed and payment.reversal_id is None
    ]
    # A payment the bank took at 23:59 and the billing registered at 00:00 is in the
    # registry of the day before: one a stored report lists is not missing anywhere.
    elsewhere = txn_ids_in_stored_registries(
        operator_id=operator.pk, txn_ids=[p.txn_id for p in unlisted if p.txn_id])
    lines += [_billing_only(p) for p in unlisted if p.txn_id not in elsewhere]
    if post_missing:
        for row, line in zip(rows, lines[: len(rows)], strict=True):
            if line.category == Category.MISSING_IN_BILLING:
                _post(row, line, operator, payers, file_name, actor)
    return _store(
        gateway=gateway, operator=operator, registry=registry, period=period,
        file_name=file_name, file_sha256=file_sha256, actor=actor,
        post_missing=post_missing, lines=lines,
    )


def _registry_side(row: RegistryRow) -> dict:
    return {
        "line_no": row.line,
        "txn_id": row.txn_id,
        "account": row.account,
        "registry_amount": row.amount,
        "fee": row.fee,
        "paid_at": row.paid_at,
    }


def _billing_side(payment: BillingPayment) -> dict:
    return {
        "operation_id": payment.operation_id,
        "billing_amount": payment.amount,
        "contract_number": payment.contract_number,
    }


def _classify(row: RegistryRow, payment: BillingPayment | None, payers) -> ReconciliationLine:
    line = ReconciliationLine(**_registry_side(row))
    if payment is None:
        line.category = Category.MISSING_IN_BILLING
        return line
    for key, value in _billing_side(payment).items():
        setattr(line, key, value)
    if payment.reversal_id is not None:
        line.category = Category.REVERSED
        line.message = _("reversed by operation #%(id)s") % {"id": payment.reversal_id}
        return line
    problems = []
    if payment.amount != row.amount:
        problems.append(
            _("amount: registry %(registry)s, billing %(billing)s")
            % {"registry": fmt(row.amount), "billing": fmt(payment.amount)}
        )
    payer = payers.get(row.account)
    if payer is None:
        problems.append(
            _("account %(account)s names no subscriber; the billing credited contract "
              "%(contract)s") % {"account": row.account, "contract": payment.contract_number}
        )
    elif payer.pk != payment.subscriber_id:
        problems.append(
            _("account %(account)s is contract %(registry)s; the billing credited contract "
              "%(contract)s")
            % {"account": row.account, "registry": payer.contract_number,
               "contract": payment.contract_number}
        )
    line.category = Category.MISMATCHED if problems else Category.MATCHED
    line.resolved = not problems
    line.message = "; ".join(problems)
    return line


def _billing_only(payment: BillingPayment) -> ReconciliationLine:
    return ReconciliationLine(
        category=Category.MISSING_IN_REGISTRY,
        txn_id=payment.txn_id,
        paid_at=payment.op_date,
        **_billing_side(payment),
    )


def _post(row, line, operator, payers, file_name, actor) -> None:
    """Post one missing registry payment; the outcome goes on the line, never raises for
    a refusal (the other rows still get posted)."""
    payer = payers.get(row.account)
    if payer is None:
        line.message = _("not posted: account %(account)s names no subscriber") % {
            "account": row.account
        }
        return
    try:
        result = payment_register(
            subscriber=payer,
            amount=row.amount,
            actor=actor,
            operator=operator,
            external_id=row.txn_id,
            op_date=row.paid_at,
            description=_("Registry %(file)s, line %(line)s")
            % {"file": file_name, "line": row.line},
        )
    except ApplicationError as exc:
        line.message = _("not posted: %(error)s") % {"error": exc.message}
        return
    operation = result.operation
    line.operation_id = operation.pk
    line.billing_amount = operation.amount
    line.contract_number = payer.contract_number
    line.posted = result.created
    line.resolved = True
    if result.created:
        line.message = _("posted as operation #%(id)s") % {"id": operation.pk}
    else:  # another run or the gateway itself posted it since we looked
        line.message = _("posted meanwhile as operation #%(id)s") % {"id": operation.pk}


def _store(
    *, gateway, operator, registry, period, file_name, file_sha256, actor, post_missing, lines
) -> Reconciliation:
    def count(category) -> int:
        return sum(1 for line in lines if line.category == category)

    in_billing = [
        line for line in lines
        if line.operation_id is not None and line.category != Category.REVERSED
    ]
    posted = [line for line in lines if line.posted]
    who = actor_fields(actor)
    with transaction.atomic():
        report = Reconciliation.objects.create(
            gateway=gateway[:80],
            operator=operator,
            registry_format=registry.format,
            date_from=period[0],
            date_to=period[1],
            file_name=file_name[:255],
            file_sha256=file_sha256,
            registry_count=len(registry.rows),
            registry_amount=registry.amount,
            registry_fee=registry.fee,
            billing_count=len(in_billing),
            billing_amount=sum((line.billing_amount for line in in_billing), ZERO),
            matched_count=count(Category.MATCHED),
            missing_in_billing_count=count(Category.MISSING_IN_BILLING),
            missing_in_registry_count=count(Category.MISSING_IN_REGISTRY),
            mismatched_count=count(Category.MISMATCHED),
            reversed_count=count(Category.REVERSED),
            post_missing=post_missing,
            posted_count=len(posted),
            posted_amount=sum((line.billing_amount for line in posted), ZERO),
            unresolved_count=sum(1 for line in lines if not line.resolved),
            created_by=who["actor_user"],
            actor=who["actor"],
        )
        for line in lines:
            line.reconciliation = report
        ReconciliationLine.objects.bulk_create(lines, batch_size=500)
        audit_record(
            actor=actor,
            action="reconcile",
            obj=report,
            new={
                "gateway": report.gateway,
                "operator": operator.code,
                "date": str(report.date_from),
                "file_sha256": file_sha256,
                "registry_count": report.registry_count,
                "registry_amount": fmt(report.registry_amount),
                "posted_count": report.posted_count,
                "posted_amount": fmt(report.posted_amount),
                "unresolved_count": report.unresolved_count,
            },
        )
    return report
