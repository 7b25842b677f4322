"""Cabinet services for online (card) payments: the cabinet starts one, the bank
confirms it, and only then is money credited — exactly once.

``pending_payment_create`` records the order and returns its id, which the cabinet sends
to the bank as the order number (Carbon's ``operation_id_out``). Whoever hears from the
bank (a payment gateway's callback, an operator in the admin) calls
``pending_payment_confirm``: it locks the order, posts the payment through
``finance.services.payment_register`` under the order's operator with the external id
``cabinet:<id>`` (unique per operator in the ledger) and links it to the order one-to-one,
so repeated or concurrent confirmations return the first payment and credit nothing more.
A confirmation for a cancelled order still credits it: the bank has taken the money.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from asr_billing.cabinet import texts
from asr_billing.cabinet.models import CabinetSession, PendingPayment, PendingStatus
from asr_billing.cabinet.services import canonical_ip, session_actor
from asr_billing.core import runtime
from asr_billing.core.audit import Actor, audit_record
from asr_billing.core.errors import Conflict, InvalidInput, NotFound, PaymentMismatch
from asr_billing.core.money import MoneyError, fmt, money, parse_amount
from asr_billing.finance.models import Operation, PaymentOperator
from asr_billing.finance.services import PostResult, payment_register


def cabinet_amount(text) -> Decimal:
    """A sum the subscriber typed: positive, at most 2 decimal places (Carbon's texts)."""
    try:
        amount = parse_amount(str(text if text is not None else ""), positive=False)
    except (MoneyError, ArithmeticError):  # 27+ digits: decimal.InvalidOperation
        raise InvalidInput(texts.PAYMENT_SUM_INVALID, code="sum_invalid") from None
    if amount == 0:
        raise InvalidInput(texts.PAYMENT_SUM_ZERO, code="sum_zero")
    if amount < 0:
        raise InvalidInput(texts.PAYMENT_SUM_INVALID, code="sum_invalid")
    return amount


def pending_payment_create(
    *,
    session: CabinetSession,
    amount,
    operator: str,
    contract_number: str = "",
    src_ip: str | None = None,
    now: datetime | None = None,
) -> PendingPayment:
    """Start an online payment of ``amount`` roubles for the session's subscriber through
    ``operator`` (one of cabinet['payment.operators']). ``contract_number``, when given,
    must name that subscriber (its contract number or its account number)."""
    now = now or timezone.now()
    value = cabinet_amount(amount)
    code = str(operator or "").strip()
    allowed = runtime.current().get("cabinet", "payment.operators").split()
    if code not in allowed:
        raise InvalidInput(
            _("Payments through %(operator)s cannot be started from the cabinet")
            % {"operator": code[:64] or "-"},
            code="operator_not_allowed",
        )
    found = PaymentOperator.objects.filter(code=code, enabled=True).first()
    if found is None:
        raise NotFound(_("Unknown payment operator: %(op)s") % {"op": code},
                       code="operator_unknown")
    login = session.login
    subscriber = login.subscriber
    number = str(contract_number or "").strip()
    if number and number not in (subscriber.contract_number, str(subscriber.pk)):
        raise InvalidInput(
            _("Contract %(number)s is not this subscriber's") % {"number": number[:64]},
            code="contract_mismatch",
        )
    with transaction.atomic():
        pending = PendingPayment.objects.create(
            subscriber=subscriber, login=login, operator=found, amount=value,
            src_ip=canonical_ip(src_ip) if src_ip else None, created_at=now,
        )
        audit_record(actor=session_actor(login), action="online_payment_start", obj=pending,
                     subscriber=subscriber,
                     new={"amount": fmt(value), "operator": code, "order": pending.pk})
    return pending


def _locked_order(payment_id: int) -> PendingPayment:
    """Order ``payment_id`` with its row locked (subscriber and operator joined), else
    NotFound. Call inside the transaction that changes it."""
    pending = (
        PendingPayment.objects.select_for_update(of=("self",))
        .select_related("subscriber", "operator")
        .filter(pk=payment_id)
        .first()
    )
    if pending is None:
        raise NotFound(_("Online payment %(id)s does not exist") % {"id": payment_id},
                       code="order_not_found")
    return pending


def pending_payment_confirm(
    *,
    payment_id: int,
    actor: Actor,
    amount: Decimal | None = None,
    bank_reference: str = "",
    now: datetime | None = None,
) -> PostResult:
    """The bank says order ``payment_id`` is paid: credit it once. ``amount``, when the
    bank reports it, must equal the order's. A repeat returns the first payment
    (``created=False``)."""
    now = now or timezone.now()
    with transaction.atomic():
        pending = _locked_order(payment_id)
        if amount is not None and money(amount) != pending.amount:
            raise PaymentMismatch(
                _("Online payment %(id)s is for %(expected)s, not %(amount)s")
                % {"id": pending.pk, "expected": fmt(pending.amount), "amount": fmt(amount)}
            )
        if pending.status == PendingStatus.PAID:
            # Read apart: after waiting for the lock, PostgreSQL re-reads the locked row but
            # not a joined one, which would still be the unpaid state's (none).
            return PostResult(Operation.objects.get(pk=pending.operation_id), created=False)
        result = payment_register(
            subscriber=pending.subscriber,
            amount=pending.amount,
            actor=actor,
            operator=pending.operator,
            external_id=pending.external_id,
            description=_("Online payment #%(id)s from the cabinet") % {"id": pending.pk},
        )
        pending.status = PendingStatus.PAID
        pending.operation = result.operation
        pending.finished_at = now
        pending.bank_reference = str(bank_reference or "")[:100]
        pending.save(update_fields=["status", "operation", "finished_at", "bank_reference"])
    return result


def pending_payment_cancel(
    *, payment_id: int, actor: Actor, now: datetime | None = None
) -> PendingPayment:
    """The bank says the order failed or it expired: mark it cancelled (no money moves)."""
    now = now or timezone.now()
    with transaction.atomic():
        pending = _locked_order(payment_id)
        if pending.status == PendingStatus.PAID:
            raise Conflict(_("Online payment %(id)s is paid already") % {"id": pending.pk},
                           code="order_paid")
        if pending.status == PendingStatus.CANCELLED:
            return pending
        pending.status, pending.finished_at = PendingStatus.CANCELLED, now
        pending.save(update_fields=["status", "finished_at"])
        audit_record(actor=actor, action="online_payment_cancel", obj=pending,
                     subscriber=pending.subscriber)
    return pending
