"""Money-moving services. Each one runs in a transaction, locks the account row before
reading the balance, appends ledger rows (never edits them) and updates the balance cache
and the negbal state in the same transaction.

Exactly-once is the database's job: unique constraints on (operator, external id) for
payments and (account, tariff/service, period) for charges. A retry gets the original
operation back; a retry that differs is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from asr_billing.core.audit import Actor, actor_fields, audit_record
from asr_billing.core.errors import Conflict, InvalidInput, NotFound, PaymentMismatch
from asr_billing.core.metrics import observe_payment
from asr_billing.core.money import CENT, TOO_LARGE
from asr_billing.finance.models import Account, Operation, OperationType, PaymentOperator
from asr_billing.finance.posting import Outcome, payment_post
from asr_billing.finance.state import subscriber_state_refresh
from asr_billing.subscribers.models import Subscriber
from asr_billing.subscribers.selectors import SubscriberRef


@dataclass(frozen=True)
class PostResult:
    operation: Operation
    created: bool  # False: an earlier identical request already made it (a replay)
    # The subscriber's contract number, for answers that name it (payments fill it in).
    contract_number: str = ""


def account_lock(subscriber_id: int) -> Account:
    """Lock the account row for the rest of the transaction and return it fresh."""
    return (
        Account.objects.select_for_update(of=("self",))
        .select_related("subscriber__tariff")
        .get(pk=subscriber_id)
    )


def _check_size(amount: Decimal) -> None:
    # Before quantize(), which raises InvalidOperation past 28 digits; and a MoneyField
    # holds 12 integer digits (PostgreSQL would refuse the row with a numeric overflow).
    if amount.is_finite() and abs(amount) >= TOO_LARGE:
        raise InvalidInput(_("The amount is too large"))


def _check_amount(amount: Decimal) -> Decimal:
    if not isinstance(amount, Decimal):
        raise TypeError("amount must be a Decimal")
    _check_size(amount)
    if not amount.is_finite() or amount != amount.quantize(CENT) or amount <= 0:
        raise InvalidInput(_("The amount must be positive with at most 2 decimal places"))
    return amount.quantize(CENT)


def _actor_of_operation(actor: Actor) -> dict:
    fields = actor_fields(actor)
    return {"created_by": fields["actor_user"], "actor": fields["actor"]}


def _post(account: Account, *, actor: Actor, **fields) -> Operation:
    """Append one row to a locked account and move the balance. Raises IntegrityError
    (inside its own savepoint) when a uniqueness constraint says it exists already."""
    amount = fields["amount"]
    if abs(account.balance + amount) >= TOO_LARGE:  # the column would refuse it (a 500)
        raise InvalidInput(_("The balance would be too large"), code="too_large")
    with transaction.atomic():
        operation = Operation.objects.create(
            account=account,
            balance_after=account.balance + amount,
            **_actor_of_operation(actor),
            **fields,
        )
    account.balance = operation.balance_after
    account.save(update_fields=["balance", "updated_at"])
    subscriber_state_refresh(subscriber_id=account.pk, actor=actor, account=account)
    return operation


def _replay(operator_id: int, external_id: str, subscriber_id: int, amount: Decimal):
    original = (
        Operation.objects.select_related("account__subscriber", "pay_operator")
        .filter(pay_operator_id=operator_id, external_id=external_id)
        .first()
    )
    if original is None:
        return None
    if original.amount != amount or original.account_id != subscriber_id:
        raise PaymentMismatch(
            _("Payment %(id)s was already made with another amount or subscriber")
            % {"id": external_id},
            extra={"operation": original},
        )
    return PostResult(
        original, created=False, contract_number=original.account.subscriber.contract_number
    )


def payment_register(
    *,
    subscriber: Subscriber | SubscriberRef | str,
    amount: Decimal,
    actor: Actor,
    operator: PaymentOperator | str | None = None,
    external_id: str = "",
    op_date: datetime | None = None,
    description: str = "",
    code1c: str = "",
) -> PostResult:
    """Credit a payment to a subscriber given as an object or found by contract number,
    login or IP.

    With an ``external_id`` the payment happens exactly once per (operator, external id):
    a replay returns the original (``created=False``); a replay with another amount or
    subscriber raises PaymentMismatch. ``amount`` is positive roubles, 2 places at most.

    The result holds everything an answer needs without another query: the operation's
    id, date, amount, balance after, account (= subscriber) id and the contract number.
    A new operation is built from what was written, its relations are not loaded.
    """
    amount = _check_amount(amount)
    external_id = (external_id or "").strip()
    if len(external_id) > 100:
        raise InvalidInput(_("The payment id is longer than 100 characters"))
    if isinstance(operator, PaymentOperator) and not operator.enabled:
        raise _operator_disabled(operator.code)
    if external_id and operator is None:
        raise InvalidInput(_("A payment id needs a payment operator"))
    if isinstance(operator, PaymentOperator):
        operator_id, operator_code = operator.pk, operator.code
    else:  # a code (found by the posting) or no operator
        operator_id, operator_code = None, operator
    if isinstance(subscriber, Subscriber | SubscriberRef):
        subscriber_id, key, contract = subscriber.pk, "", subscriber.contract_number
    else:
        subscriber_id, key, contract = None, str(subscriber).strip(), None
    now = timezone.now()
    op_date = op_date or now
    posted = payment_post(
        subscriber_id=subscriber_id,
        key=key,
        operator_id=operator_id,
        operator_code=operator_code,
        amount=amount,
        op_date=op_date,
        now=now,
        description=description,
        actor=actor,
        external_id=external_id,
        code1c=code1c,
    )
    contract = contract or posted.contract_number
    match posted.outcome:
        case Outcome.UNKNOWN_OPERATOR:
            raise NotFound(
                _("Unknown payment operator: %(op)s") % {"op": operator_code},
                code="unknown_operator",
            )
        case Outcome.DISABLED_OPERATOR:
            raise _operator_disabled(operator_code)
        case Outcome.NO_SUBSCRIBER | Outcome.NO_ACCOUNT:
            raise NotFound(_("Subscriber not found: %(id)s") % {"id": contract or key})
        case Outcome.TOO_LARGE:
            raise InvalidInput(_("The balance would be too large"), code="too_large")
        case Outcome.EXISTS:
            if external_id:
                replay = _replay(posted.operator_id, external_id, posted.subscriber_id, amount)
                if replay is not None:
                    return replay
            if code1c and Operation.objects.filter(code1c=code1c).exists():
                raise Conflict(
                    _("An operation with 1C code %(code)s exists already") % {"code": code1c}
                )
            raise RuntimeError("a payment was neither posted nor found")  # pragma: no cover
    who = actor_fields(actor)
    operation = Operation(
        pk=posted.operation_id,
        account_id=posted.subscriber_id,
        type=OperationType.PAYMENT,
        amount=amount,
        balance_after=posted.balance_after,
        op_date=op_date,
        created_at=posted.created_at,
        description=description,
        created_by=who["actor_user"],
        actor=who["actor"],
        pay_operator_id=posted.operator_id,
        external_id=external_id,
        code1c=code1c,
        synced_1c=bool(code1c),
    )
    if isinstance(operator, PaymentOperator):
        operation.pay_operator = operator
    observe_payment(operator_code, amount)
    operation._state.adding = False  # it is in the database: save() would update it
    operation._state.db = connection.alias
    return PostResult(operation, created=True, contract_number=contract)


def _operator_disabled(code: str) -> InvalidInput:
    return InvalidInput(
        _("Payment operator %(op)s is disabled") % {"op": code}, code="operator_disabled"
    )


def charge_post(
    *,
    subscriber: Subscriber,
    amount: Decimal,
    actor: Actor,
    period_start: date,
    period_end: date,
    tariff=None,
    service=None,
    description: str = "",
    op_date: datetime | None = None,
) -> PostResult:
    """Charge ``amount`` (positive roubles; posted as a negative operation) for a tariff or
    a service over [period_start, period_end]. Exactly once per (subscriber, tariff or
    service, period_start): a second call returns the first charge with created=False."""
    amount = _check_amount(amount)
    if (tariff is None) == (service is None):
        raise InvalidInput(_("A charge is for exactly one tariff or one service"))
    if period_end < period_start:
        raise InvalidInput(_("The period ends before it starts"))
    key = {"tariff": tariff} if tariff is not None else {"service": service}
    with transaction.atomic():
        account = account_lock(subscriber.pk)
        try:
            operation = _post(
                account,
                actor=actor,
                type=OperationType.CHARGE,
                amount=-amount,
                op_date=op_date or timezone.now(),
                description=description,
                period_start=period_start,
                period_end=period_end,
                **key,
            )
        except IntegrityError:
            existing = Operation.objects.filter(
                account=account, type=OperationType.CHARGE, period_start=period_start, **key
            ).first()
            if existing is None:
                raise
            return PostResult(existing, created=False)
        audit_record(
            actor=actor,
            action="charge",
            obj=operation,
            subscriber=account.subscriber,
            new={"amount": str(-amount), "balance": str(account.balance)},
        )
    return PostResult(operation, created=True)


def correction_post(
    *, subscriber: Subscriber, amount: Decimal, actor: Actor, description: str
) -> Operation:
    """A manual correction by an operator: ``amount`` signed (+ credit, − debit), with a
    mandatory explanation."""
    if not isinstance(amount, Decimal):
        raise TypeError("amount must be a Decimal")
    _check_size(amount)
    if not amount.is_finite() or amount == 0 or amount != amount.quantize(CENT):
        raise InvalidInput(_("The amount must be non-zero with at most 2 decimal places"))
    if not (description or "").strip():
        raise InvalidInput(_("A correction needs a description"))
    with transaction.atomic():
        account = account_lock(subscriber.pk)
        operation = _post(
            account,
            actor=actor,
            type=OperationType.CORRECTION,
            amount=amount.quantize(CENT),
            description=description.strip(),
        )
        audit_record(
            actor=actor,
            action="correction",
            obj=operation,
            subscriber=account.subscriber,
            new={"amount": str(amount), "balance": str(account.balance)},
            message=description.strip(),
        )
    return operation


def operation_reverse(*, operation: Operation, actor: Actor, description: str = "") -> Operation:
    """Cancel an operation with a reversal row of the opposite amount (storno).
    An operation is reversed at most once (a unique link); a reversal is not reversed."""
    if operation.type == OperationType.REVERSAL:
        raise InvalidInput(_("A reversal cannot be reversed"))
    with transaction.atomic():
        account = account_lock(operation.account_id)
        text = description.strip() or _("Reversal of operation #%(id)s") % {"id": operation.pk}
        try:
            reversal = _post(
                account,
                actor=actor,
                type=OperationType.REVERSAL,
                amount=-operation.amount,
                description=text,
                reverses=operation,
            )
        except IntegrityError:
            raise Conflict(
                _("Operation #%(id)s is already reversed") % {"id": operation.pk}
            ) from None
        audit_record(
            actor=actor,
            action="reversal",
            obj=reversal,
            subscriber=account.subscriber,
            old={"operation": operation.pk, "amount": str(operation.amount)},
            new={"amount": str(reversal.amount), "balance": str(account.balance)},
            message=text,
        )
    return reversal


# --- 1C exchange (system API api_1c_manager) ---


def operation_sync_1c(*, operation: Operation, code1c: str, actor: Actor) -> Operation:
    """Mark a ledger row as synced with 1C under the 1C document code ``code1c``.

    Only the 1C metadata changes, never the money. Repeating with the same code is a
    no-op; another code on a row that has one, or a code another row holds, is refused.
    """
    code = (code1c or "").strip()
    if not code:
        raise InvalidInput(_("The 1C code is empty"))
    if len(code) > 64:
        raise InvalidInput(_("The 1C code is longer than 64 characters"))
    with transaction.atomic():
        locked = Operation.objects.select_for_update().get(pk=operation.pk)
        if locked.code1c == code and locked.synced_1c:
            return locked
        if locked.code1c and locked.code1c != code:
            raise Conflict(
                _("Operation #%(id)s is already synced with 1C code %(code)s")
                % {"id": locked.pk, "code": locked.code1c}
            )
        try:
            with transaction.atomic():
                Operation.objects.filter(pk=locked.pk).update(code1c=code, synced_1c=True)
        except IntegrityError:
            raise Conflict(
                _("An operation with 1C code %(code)s exists already") % {"code": code}
            ) from None
        locked.code1c, locked.synced_1c = code, True
        audit_record(
            actor=actor,
            action="sync_1c",
            obj=locked,
            subscriber=None,
            new={"operation": locked.pk, "code1c": code},
        )
    return locked


def payment_import_1c(
    *,
    subscriber: Subscriber,
    code1c: str,
    amount: Decimal,
    actor: Actor,
    op_date: datetime | None = None,
    description: str = "",
) -> PostResult:
    """Credit a payment recorded in 1C (a cash order, a bank receipt), exactly once per
    its 1C document code. 1C re-sends every document of the period on each run, so a
    repeat with the same subscriber and amount returns the original (created=False);
    the same code with another subscriber, amount or type is refused."""
    code = (code1c or "").strip()
    if not code:
        raise InvalidInput(_("The 1C code is empty"))
    if len(code) > 64:
        raise InvalidInput(_("The 1C code is longer than 64 characters"))
    amount = _check_amount(amount)

    def replay() -> PostResult | None:
        original = Operation.objects.filter(code1c=code).first()
        if original is None:
            return None
        if (
            original.type != OperationType.PAYMENT
            or original.amount != amount
            or original.account_id != subscriber.pk
        ):
            raise PaymentMismatch(
                _("1C document %(code)s was already imported with another amount or subscriber")
                % {"code": code},
                extra={"operation": original},
            )
        return PostResult(original, created=False)

    found = replay()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return payment_register(
                subscriber=subscriber,
                amount=amount,
                actor=actor,
                op_date=op_date,
                description=description,
                code1c=code,
            )
    except Conflict:
        found = replay()  # imported by a concurrent request
        if found is None:
            raise
        return found
