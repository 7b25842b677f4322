"""asr_fiscal_manager.act_pay (context=asr_fiscal): payments from terminals and banks.

arg1: ``{"contract_number", "sum_in", "pay_operator", "pay_id_str", "act"}``;
``contract_number`` may hold a contract number, a login or an IP (tried in that order).

Acts:

- ``PAY``: credit ``sum_in`` exactly once per (pay_operator, pay_id_str). A replay answers
  the original payment (same operation id, same balance after) with ``"replay": true`` and
  the product's message; a replay with another sum is refused.
- ``CHECK_ABONENT``: can this subscriber be paid (found, operator known)?
- ``CHECK``: as CHECK_ABONENT, plus the state of ``pay_id_str`` when given.

Answers (all keys always present for the act; amounts are strings with 2 places)::

    PAY   {"result": "ok", "act": "PAY", "replay": false, "operation_id": 54895,
           "abonent_id": 3, "contract_number": "BILL0000003", "sum": "100.00",
           "balance": "350.00", "pay_operator": "SBERBANK_OSMP",
           "pay_id_str": "1238989213892", "op_date": "2024-05-01T12:00:00.123456+03:00",
           "message": ""}
    CHECK_ABONENT {"result": "ok", "act": "CHECK_ABONENT", "abonent_id": 3,
           "contract_number": "BILL0000003", "name": "...", "balance": "250.00"}
    CHECK  as CHECK_ABONENT plus "payment": {"pay_id_str", "state": "done"|"reversed"|
           "not_found", and for a found one "operation_id", "sum", "op_date",
           "contract_number"}
    error {"result": "error", "act": "<act as sent>", "error": "<text>"}

Error texts are the product's own (reference §4.4), byte for byte: terminals' handlers
and operators compare them.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from asr_billing.core.errors import ApplicationError, InvalidInput, NotFound, PaymentMismatch
from asr_billing.core.money import MoneyError, fmt, parse_amount
from asr_billing.finance.models import PaymentOperator
from asr_billing.finance.selectors import payment_target
from asr_billing.finance.services import PostResult, payment_register
from asr_billing.subscribers.selectors import SubscriberRef
from asr_billing.system_api import selectors
from asr_billing.system_api.params import ArgumentError, Call
from asr_billing.system_api.registry import api_function

# The product's texts (Carbon's admin_billing.po); not translated, clients compare them.
UNKNOWN_ACT = "Неизвестная команда! ({0})"
UNKNOWN_OPERATOR = "Неизвестный оператор! ({0})"
NO_SEARCH_PARAMETER = "Не указан параметр для поиска абонента! ({0})"
SUBSCRIBER_NOT_FOUND = "Абонент не найден! ({0})"
NO_SUM = "В платеже не указана сумма!"
BAD_SUM = "Неверно введена сумма платежа"
ZERO_SUM = "Сумма платежа не должна быть нулевой"
SUM_MISMATCH = "Сумма дублирующего платежа не совпадает с оригиналом!"
ALREADY_CREATED = "Платеж уже создан"
REPLAY = "Платеж уже проведен, возвращаем старые данные!"

ACTS = ("PAY", "CHECK_ABONENT", "CHECK")
SEARCH_PARAMETER = "contract_number"


class FiscalError(ApplicationError):
    def __init__(self, message: str, *, act: str, code: str = "error"):
        super().__init__(message, code=code)
        self.act = act


def fiscal_errors(exc: ApplicationError) -> dict:
    return {"result": "error", "act": getattr(exc, "act", ""), "error": str(exc.message)}


def _shown(value: str, limit: int = 100) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _target(call: Call, act: str) -> tuple[PaymentOperator, SubscriberRef]:
    """The enabled operator and the subscriber, in one query; refusals in Carbon's order
    (the operator, then the search parameter, then the subscriber)."""
    code = call.args.text("pay_operator")
    key = call.args.text(SEARCH_PARAMETER)
    target = payment_target(operator_code=code, subscriber_key=key)
    if target.operator is None:
        raise FiscalError(UNKNOWN_OPERATOR.format(_shown(code)), act=act, code="unknown_operator")
    if not key:
        raise FiscalError(
            NO_SEARCH_PARAMETER.format(SEARCH_PARAMETER), act=act, code="no_search_parameter"
        )
    if target.subscriber is None:
        raise FiscalError(SUBSCRIBER_NOT_FOUND.format(_shown(key)), act=act, code="not_found")
    return target.operator, target.subscriber


def _amount(call: Call, act: str):
    if not call.args.present("sum_in"):
        raise FiscalError(NO_SUM, act=act, code="no_sum")
    try:
        amount = parse_amount(call.args.text("sum_in"), positive=False)
    # true, [..], {..} are no sums either; ArithmeticError: 27+ digits overflow Decimal's
    # precision inside parse_amount (decimal.InvalidOperation, not a MoneyError).
    except (MoneyError, TypeError, ArgumentError, ArithmeticError):
        raise FiscalError(BAD_SUM, act=act, code="bad_sum") from None
    if amount == 0:
        raise FiscalError(ZERO_SUM, act=act, code="bad_sum")
    if amount < 0:
        raise FiscalError(BAD_SUM, act=act, code="bad_sum")
    return amount


def _payment_answer(result: PostResult, operator_code: str) -> dict:
    """Built from what payment_register returns: no query after the posting."""
    operation = result.operation
    return {
        "result": "ok",
        "act": "PAY",
        "replay": not result.created,
        "operation_id": operation.pk,
        "abonent_id": operation.account_id,
        "contract_number": result.contract_number,
        "sum": fmt(operation.amount),
        "balance": fmt(operation.balance_after),
        "pay_operator": operator_code,
        "pay_id_str": operation.external_id,
        "op_date": timezone.localtime(operation.op_date).isoformat(),
        "message": "" if result.created else REPLAY,
    }


def _subscriber_answer(subscriber, act: str) -> dict:
    balance = selectors.account_balance(subscriber.pk)
    return {
        "result": "ok",
        "act": act,
        "abonent_id": subscriber.pk,
        "contract_number": subscriber.contract_number,
        "name": subscriber.name,
        "balance": fmt(balance) if balance is not None else None,
    }


def _pay_request(call: Call) -> tuple[str, str, Decimal, str]:
    """(operator code, search key, amount, payment id) read from the call; the refusals
    of the operator and the subscriber come before those of the sum and the id (Carbon's
    order), so a request that fails here looks them up first (a slow path: bad requests
    only)."""
    code = call.args.text("pay_operator")
    key = call.args.text(SEARCH_PARAMETER)
    try:
        if not key:
            raise FiscalError(
                NO_SEARCH_PARAMETER.format(SEARCH_PARAMETER), act="PAY",
                code="no_search_parameter",
            )
        amount = _amount(call, "PAY")
        pay_id = call.args.text("pay_id_str")
        if not pay_id:
            # Without the terminal's id a retry would pay twice; exactly-once needs it.
            raise FiscalError(
                _("The payment has no pay_id_str (the operator's payment id)"),
                act="PAY",
                code="no_pay_id",
            )
    except FiscalError:
        _target(call, "PAY")
        raise
    return code, key, amount, pay_id


def _pay(call: Call) -> dict:
    code, key, amount, pay_id = _pay_request(call)
    try:
        # The operator and the subscriber are found by the posting itself (one round
        # trip on PostgreSQL): the payment intake's budget, DESIGN.md §5.
        result = payment_register(
            subscriber=key,
            amount=amount,
            operator=code,
            external_id=pay_id,
            actor=call.actor,
            description=_("Payment via %(op)s, id %(id)s") % {"op": code, "id": pay_id},
        )
    except PaymentMismatch as exc:
        original = exc.extra.get("operation")
        text = SUM_MISMATCH if original is None or original.amount != amount else ALREADY_CREATED
        raise FiscalError(text, act="PAY", code="payment_mismatch") from None
    except (InvalidInput, NotFound) as exc:
        if exc.code in ("unknown_operator", "operator_disabled"):  # disabled counts as unknown
            raise FiscalError(UNKNOWN_OPERATOR.format(_shown(code)), act="PAY",
                              code="unknown_operator") from None
        if isinstance(exc, NotFound):  # not the operator: the subscriber
            raise FiscalError(SUBSCRIBER_NOT_FOUND.format(_shown(key)), act="PAY",
                              code="not_found") from None
        raise FiscalError(str(exc.message), act="PAY", code=exc.code) from None
    return _payment_answer(result, code)


def _check(call: Call, act: str) -> dict:
    _operator, subscriber = _target(call, act)
    answer = _subscriber_answer(subscriber, act)
    if act == "CHECK" and call.args.present("pay_id_str"):
        pay_id = call.args.text("pay_id_str")
        operation = selectors.payment_by_external_id(
            operator_code=call.args.text("pay_operator"), external_id=pay_id
        )
        if operation is None:
            answer["payment"] = {"pay_id_str": pay_id, "state": "not_found"}
        else:
            answer["payment"] = {
                "pay_id_str": pay_id,
                "state": "reversed" if operation.is_reversed else "done",
                "operation_id": operation.pk,
                "sum": fmt(operation.amount),
                "op_date": timezone.localtime(operation.op_date).isoformat(),
                "contract_number": operation.account.subscriber.contract_number,
            }
    return answer


# Not wrapped in a transaction by the view: the only write, payment_register, is atomic
# by itself (one statement on PostgreSQL: BEGIN and COMMIT would be two more round trips).
@api_function("asr_fiscal_manager.act_pay", context="asr_fiscal", errors=fiscal_errors)
def act_pay(call: Call) -> dict:
    """PAY / CHECK_ABONENT / CHECK; see the module docstring for arguments and answers."""
    act = call.args.text("act").upper()
    if act not in ACTS:
        raise FiscalError(UNKNOWN_ACT.format(_shown(call.args.text("act"))), act=act,
                          code="unknown_act")
    try:
        if act == "PAY":
            return _pay(call)
        return _check(call, act)
    except ArgumentError as exc:  # an argument of the wrong type: answered under its act
        raise FiscalError(str(exc.message), act=act, code=exc.code) from None
