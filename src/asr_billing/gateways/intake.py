"""check, pay, cancel and status for every gateway: the rules of an instance (account
key, limits, who may pay) and the calls into the services. Protocol-free: a gateway
hands in a ``Command`` and renders the ``Outcome``; refusals are ``Refused(reason)``.

Money moves only through finance.services: ``payment_register`` (exactly once per
(operator, transaction id) by the database; a retry returns the original operation, a
retry with another sum or account raises PaymentMismatch) and ``operation_reverse``.
A payment costs two round trips on PostgreSQL: the payer's lookup and the posting.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _

from asr_billing.billing.periods import local_today
from asr_billing.core import runtime
from asr_billing.core.errors import Conflict, InvalidInput, NotFound, PaymentMismatch
from asr_billing.core.money import MoneyError, parse_amount
from asr_billing.finance.services import operation_reverse, payment_register
from asr_billing.gateways import selectors
from asr_billing.gateways.base import Command, Outcome, Reason, Refused
from asr_billing.gateways.config import GatewayInstance
from asr_billing.subscribers.selectors import PayerRef, payer_find, payer_valid

# Longest account value looked up (a login is at most 64 characters, a contract 32).
MAX_ACCOUNT = 64


def amount_from_wire(text: str | None) -> Decimal | None:
    """A sum as the payment system wrote it (``100``, ``100.5``, ``100.50``): None when
    absent; Refused(BAD_AMOUNT) when it is no positive amount with at most 2 decimals
    (``-1``, ``0``, ``1e3``, ``NaN``, ``1.005``, 30 digits, empty)."""
    if text is None:
        return None
    try:
        value = parse_amount(text, positive=False)
    # ArithmeticError: past Decimal's precision inside parse_amount (InvalidOperation).
    except (MoneyError, ArithmeticError):
        raise Refused(Reason.BAD_AMOUNT, text) from None
    if value <= 0:
        raise Refused(Reason.BAD_AMOUNT, text)
    return value


def _payer(instance: GatewayInstance, account: str) -> PayerRef:
    key = account.strip()
    if len(key) > MAX_ACCOUNT or not payer_valid(by=instance.account, value=key):
        raise Refused(Reason.BAD_ACCOUNT, account)
    payer = payer_find(by=instance.account, value=key)
    if payer is None:
        raise Refused(Reason.NOT_FOUND, account)
    return payer


def _rules(instance: GatewayInstance, payer: PayerRef, amount: Decimal | None) -> None:
    """The instance's own rules: who may pay (a blocked or negative subscriber may unless
    the instance says no) and the limits of one payment."""
    if not instance.allow_blocked and payer.admin_blocked:
        raise Refused(Reason.INACTIVE, payer.contract_number)
    if not instance.allow_negative and payer.balance is not None and payer.balance < 0:
        raise Refused(Reason.INACTIVE, payer.contract_number)
    if amount is not None and amount < instance.min_sum:
        raise Refused(Reason.TOO_SMALL, str(amount))
    if amount is not None and amount > instance.max_sum:
        raise Refused(Reason.TOO_LARGE, str(amount))


def check(instance: GatewayInstance, command: Command) -> Outcome:
    """May this account be paid (with this sum, when the request names one)?"""
    payer = _payer(instance, command.account)
    _rules(instance, payer, command.amount)
    if not selectors.operator_enabled(instance.operator):
        raise Refused(Reason.REFUSED)
    recommended = None
    if command.extra.get("recommended"):  # the protocol shows a recommended sum
        day = local_today(runtime.current().time_zone)
        recommended = selectors.recommended_sum(payer.pk, day)
    return Outcome(Reason.OK, payer=payer, contract_number=payer.contract_number,
                   recommended=recommended)


def pay(instance: GatewayInstance, command: Command) -> Outcome:
    """Credit ``command.amount`` exactly once per (the instance's operator, txn id)."""
    if not command.txn_id:
        raise Refused(Reason.BAD_TXN)
    if command.amount is None:
        raise Refused(Reason.BAD_AMOUNT)
    payer = _payer(instance, command.account)
    try:
        _rules(instance, payer, command.amount)
    except Refused:
        # A retry of a payment made before the subscriber was blocked (or the limits
        # changed) still gets its original answer: exactly once means the same answer.
        if not selectors.payment_exists(operator=instance.operator, txn_id=command.txn_id):
            raise
    try:
        result = payment_register(
            subscriber=payer,
            amount=command.amount,
            operator=instance.operator,
            external_id=command.txn_id,
            actor=instance.actor,
            description=_("Payment via %(op)s, id %(id)s")
            % {"op": instance.operator, "id": command.txn_id},
        )
    except PaymentMismatch as exc:
        original = exc.extra.get("operation")
        differs = "sum" if original is None or original.amount != command.amount else "account"
        return Outcome(Reason.MISMATCH, payer=payer, operation=original, detail=differs)
    except NotFound as exc:
        if exc.code == "unknown_operator":
            raise Refused(Reason.REFUSED) from None
        raise Refused(Reason.NOT_FOUND, command.account) from None
    except InvalidInput as exc:
        if exc.code == "operator_disabled":
            raise Refused(Reason.REFUSED) from None
        if exc.code == "too_large":  # the balance would pass what the ledger holds
            raise Refused(Reason.TOO_LARGE, str(command.amount)) from None
        raise Refused(Reason.BAD_AMOUNT, str(command.amount)) from None
    contract = getattr(result, "contract_number", "") or payer.contract_number
    return Outcome(Reason.OK, payer=payer, operation=result.operation,
                   replay=not result.created, contract_number=contract)


def cancel(instance: GatewayInstance, command: Command) -> Outcome:
    """Reverse the payment with this txn id, once: a repeated cancel answers the same
    reversal. Only where the instance enables cancel (else the command is unknown)."""
    if not instance.cancel:
        raise Refused(Reason.UNKNOWN_COMMAND, command.kind)
    if not command.txn_id:
        raise Refused(Reason.BAD_TXN)
    payment = selectors.payment_by_txn(operator=instance.operator, txn_id=command.txn_id)
    if payment is None:
        raise Refused(Reason.CANCEL_NOT_FOUND, command.txn_id)
    if payment.is_reversed:
        return Outcome(Reason.OK, operation=payment, reversal=payment.reversed_by, replay=True)
    try:
        reversal = operation_reverse(operation=payment, actor=instance.actor)
    except Conflict:  # a concurrent cancel of the same payment won
        payment = selectors.payment_by_txn(operator=instance.operator, txn_id=command.txn_id)
        return Outcome(Reason.OK, operation=payment, reversal=payment.reversed_by, replay=True)
    return Outcome(Reason.OK, operation=payment, reversal=reversal)


def status(instance: GatewayInstance, command: Command) -> Outcome:
    """The state of the payment with this txn id: done, reversed or not_found."""
    if not command.txn_id:
        raise Refused(Reason.BAD_TXN)
    payment = selectors.payment_by_txn(operator=instance.operator, txn_id=command.txn_id)
    if payment is None:
        return Outcome(Reason.OK, state="not_found")
    if payment.is_reversed:
        return Outcome(Reason.OK, operation=payment, reversal=payment.reversed_by,
                       state="reversed")
    return Outcome(Reason.OK, operation=payment, state="done")


HANDLERS = {"check": check, "pay": pay, "cancel": cancel, "status": status}


def run(instance: GatewayInstance, command: Command) -> Outcome:
    """Run one command; a refusal comes back as an Outcome with its reason."""
    handler = HANDLERS.get(command.kind)
    if handler is None:
        return Outcome(Reason.UNKNOWN_COMMAND, detail=command.kind)
    try:
        return handler(instance, command)
    except Refused as refused:
        return Outcome(refused.reason, detail=refused.detail)
