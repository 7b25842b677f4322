"""api_1c_manager (context=api_1c): the exchange with 1C:Accounting (reference §4.3).

Field names and value types are the ones Carbon's 1C processing modules read
(carbonsoft/carbon_1c8_sync); where a type matters to 1C the comment says why. Answers
are the function's JSON without an envelope; an error is ``{"error_text", "error"}``,
on which the module aborts with "Неудалось выполнить запрос: <text>". Amounts leave as
strings with 2 places.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from asr_billing.core.errors import InvalidInput, NotFound
from asr_billing.core.money import MoneyError, amount_too_large, fmt, parse_amount, too_large
from asr_billing.finance.models import Operation, OperationType
from asr_billing.finance.selectors import account_turnover
from asr_billing.finance.services import operation_sync_1c, payment_import_1c
from asr_billing.subscribers.models import Subscriber
from asr_billing.subscribers.selectors import group_descendant_ids
from asr_billing.subscribers.services import subscriber_create_from_1c, subscriber_sync_1c
from asr_billing.system_api import selectors
from asr_billing.system_api.params import Call
from asr_billing.system_api.registry import ONE_C_ERRORS, api_function

# The 1C module compares these fields with the string "NULL" to mean "no value".
NULL = "NULL"
ONE_C_TYPES = (OperationType.CHARGE, OperationType.PAYMENT, OperationType.AGENT_INVOICE)


def _api_1c(name: str, *, writes: bool = False):
    return api_function(
        f"api_1c_manager.{name}", context="api_1c", errors=ONE_C_ERRORS, writes=writes
    )


def _subscriber(call: Call, name: str = "abonent_id") -> Subscriber:
    subscriber_id = call.args.object_id(name)
    found = selectors.subscriber_by_id(subscriber_id)
    if found is None:
        raise NotFound(_("Subscriber %(id)s not found") % {"id": subscriber_id})
    return found


def abonent_object(subscriber: Subscriber) -> dict:
    return {
        "pk": subscriber.pk,
        "fields": {
            "name": subscriber.name,
            "account": subscriber.pk,  # the account shares the subscriber's id
            # Empty, not "NULL": the module looks the contractor up by any filled code.
            "code1c": subscriber.code1c,
            "email": subscriber.email,
            # A number: the module tests company = 0 (a bool would never equal 0 in 1C).
            "company": int(subscriber.is_company),
            "sms": subscriber.sms_phone,
            "contract_number": subscriber.contract_number,
        },
    }


@_api_1c("api_1c_get_abonents")
def api_1c_get_abonents(call: Call) -> list[dict]:
    """Subscribers of group ``parent_id`` **and all its subgroups** (the 1C operator names
    one top group; ISPs file subscribers in subfolders by district or building), with
    ``sync1c`` 0 (default: not yet synced) or 1 (synced). No parent_id, or 0: every group
    (the module sends its group field as typed, and an empty one is the number 0)."""
    parent_id = None
    if call.args.integer("parent_id") != 0:
        parent_id = call.args.object_id("parent_id", required=False)
    synced = call.args.flag("sync1c", default=False)
    group_ids = group_descendant_ids(parent_id) if parent_id is not None else None
    rows = selectors.subscribers_for_1c(group_ids=group_ids, synced=synced)
    return [abonent_object(subscriber) for subscriber in rows]


@_api_1c("api_1c_get_abonent_attr")
def api_1c_get_abonent_attr(call: Call) -> list[dict]:
    """One row per attribute kind (4 INN, 5 KPP, 25 legal address, 26 actual address, ...);
    the module reads ``fields.attribute`` as a number and maps it to the value; a value
    the subscriber lacks is "NULL", which the module strips."""
    subscriber = _subscriber(call)
    values = selectors.attribute_values_of(subscriber.pk)
    rows = []
    for attribute in selectors.attribute_kinds():
        value = values.get(attribute.pk)
        rows.append({
            "pk": value.pk if value is not None else NULL,
            "fields": {
                "abonent": subscriber.pk,
                "attribute": attribute.pk,
                "attribute_value": (value.value if value is not None else "") or NULL,
            },
        })
    return rows


@_api_1c("api_1c_get_abonent_users")
def api_1c_get_abonent_users(call: Call) -> list[dict]:
    """The subscriber's logins (never their passwords). The module glues login and ip
    into strings, so a missing value is "NULL", never null."""
    subscriber = _subscriber(call)
    return [
        {
            "pk": login.pk,
            "fields": {
                "abonent": subscriber.pk,
                "login": login.login,
                "ip": login.ip or NULL,
                "mac": login.mac or NULL,
                "enabled": int(login.enabled),
            },
        }
        for login in selectors.logins_of(subscriber.pk)
    ]


@_api_1c("api_1c_get_account")
def api_1c_get_account(call: Call) -> list[dict]:
    """``[0].fields``: ostatok = balance; credit = sum of everything that raised it
    (payments, positive corrections); debit = sum of everything that lowered it (charges,
    reversals), as a positive number; so ostatok = credit - debit."""
    subscriber = _subscriber(call)
    turnover = account_turnover(subscriber.pk)
    if turnover is None:
        raise NotFound(_("Subscriber %(id)s has no account") % {"id": subscriber.pk})
    return [{
        "pk": subscriber.pk,
        "fields": {
            "abonent": subscriber.pk,
            "ostatok": fmt(turnover.balance),
            "debit": fmt(turnover.debit),
            "credit": fmt(turnover.credit),
        },
    }]


@_api_1c("api_1c_sync_abonent", writes=True)
def api_1c_sync_abonent(call: Call) -> dict:
    """``{"pk", "code1c", "sync1c": "1"}``: 1C created or found the contractor; remember
    its code. sync1c 0 marks the subscriber unsynced again (it is listed once more)."""
    subscriber = _subscriber(call, "pk")
    synced = call.args.flag("sync1c", default=True)
    code = call.args.text("code1c") if call.args.present("code1c") else None
    subscriber = subscriber_sync_1c(subscriber=subscriber, actor=call.actor, synced=synced,
                                    code1c=code)
    return {"result": "ok", "pk": subscriber.pk, "code1c": subscriber.code1c,
            "sync1c": int(subscriber.synced_1c)}


@_api_1c("api_1c_create_abonent", writes=True)
def api_1c_create_abonent(call: Call) -> dict:
    """``{"code1c", "name"}`` (optional ``parent_id``: the group; default the top group).
    Exactly once per code1c: a repeat answers the same subscriber with created=false; the
    same code with another name is refused."""
    group = None
    parent_id = call.args.object_id("parent_id", required=False)
    if parent_id is not None:
        group = selectors.group_by_id(parent_id)
        if group is None:
            raise NotFound(_("Group %(id)s not found") % {"id": parent_id})
    subscriber, created = subscriber_create_from_1c(
        code1c=call.args.text("code1c", required=True),
        name=call.args.text("name", required=True),
        actor=call.actor,
        group=group,
    )
    return {**abonent_object(subscriber), "created": created}


def _local(moment) -> str:
    # "YYYY-MM-DD HH:MM:SS": the module cuts the date out by position (chars 1-4, 6-7,
    # 9-10); without a "T...Z" the old module's JSON parser leaves it a string.
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S")


def _descr(operation: Operation) -> str:
    if operation.description:
        return operation.description
    if operation.period_start and operation.period_end:
        return f"{operation.period_start:%d.%m.%Y} - {operation.period_end:%d.%m.%Y}"
    return ""


def _storno_of(operation: Operation) -> Operation | None:
    """The original a reversal cancels, when 1C knows its kind of document (1, 2, 11)."""
    if operation.type == OperationType.REVERSAL and operation.reverses.type in ONE_C_TYPES:
        return operation.reverses
    return None


def document_type(operation: Operation) -> int:
    """The 1C document type of a row: its own, or for a reversal its original's (the
    module asks by type and files what it gets as that kind of document)."""
    original = _storno_of(operation)
    return (original or operation).type


def _act_services(operation: Operation, sign: int) -> list[dict]:
    """The lines of an act: one per charge. ``v`` is a number (1C multiplies by it);
    ``price`` a string the module converts with Число(), negative in a storno."""
    if operation.type not in (OperationType.CHARGE, OperationType.AGENT_INVOICE):
        return []
    if operation.tariff_id:
        name = operation.tariff.name
    elif operation.service_id:
        name = operation.service.name
    else:
        name = operation.description or operation.get_type_display()
    return [{"name": str(name), "v": 1, "price": fmt(sign * abs(operation.amount))}]


def fin_oper(operation: Operation) -> dict:
    """One operation as the 1C module reads it. ``op_summa`` is the document's amount,
    positive for acts as for payments (the type tells which); ``code1c`` is empty, not
    "NULL", until 1C has the document — the module skips every row with a filled code.

    A reversal of a payment, an act or an agent invoice is a storno document: the
    original's type, a negative ``op_summa`` (the module books Число(op_summa) as the
    document's sum: a red storno), its own id, date, balance and code, and
    ``storno_op_id``/``storno_code1c`` naming the document it cancels."""
    operator = operation.pay_operator
    original = _storno_of(operation)
    sign = -1 if original is not None else 1
    extra = {}
    if original is not None:
        extra = {"storno_op_id": original.pk, "storno_code1c": original.code1c}
    return {
        "op_id": operation.pk,
        "op_type_id": document_type(operation),
        "op_date": _local(operation.op_date),
        "op_summa": fmt(sign * abs(operation.amount)),
        "op_card_id": NULL,
        "number": NULL,
        "balance_buh": fmt(operation.balance_after),
        "descr": _descr(operation),
        "operator_pay_id": operator.pk if operator else NULL,
        "operator_name": operator.name if operator else NULL,
        "operator_result": NULL,
        "operator_pay_id_str": operation.external_id or NULL,
        "code1c": operation.code1c,
        "act_services": _act_services(original or operation, sign),
        **extra,
    }


def _op_types(call: Call) -> tuple[int, ...]:
    op_type = call.args.integer("op_type")
    if op_type is None:
        return tuple(int(t) for t in ONE_C_TYPES)
    if op_type not in ONE_C_TYPES:
        raise InvalidInput(
            _("op_type must be 1 (act), 2 (payment) or 11 (agent invoice), not %(value)s")
            % {"value": op_type}
        )
    return (op_type,)


def _operations(call: Call) -> list[Operation]:
    subscriber = _subscriber(call)
    start = call.args.moment("sdate")
    end = call.args.moment("edate", end_of_day=True)
    # Without rows reversed before 1C took them; with reversals of rows 1C has.
    return list(selectors.operations_for_1c(
        subscriber_id=subscriber.pk, types=_op_types(call), start=start, end=end
    ))


@_api_1c("api_1c_get_fin_opers_with_context")
def api_1c_get_fin_opers_with_context(call: Call) -> list[dict]:
    """``{"abonent_id", "op_type", "sdate", "edate"}``: the subscriber's operations of
    that type with sdate <= op_date <= edate (an end date without a time includes that
    whole day; 1C's empty date 01.01.0001 means no bound), oldest first."""
    return [fin_oper(op) for op in _operations(call)]


@_api_1c("api_1c_get_fin_opers")
def api_1c_get_fin_opers(call: Call) -> list[dict]:
    """The older module's call: ``{"abonent_id", "op_type"}``, dates optional. Same rows,
    plus ``op_type`` (that module reads the type of an act under this name)."""
    return [{**fin_oper(op), "op_type": document_type(op)} for op in _operations(call)]


@_api_1c("api_1c_get_fin_detail")
def api_1c_get_fin_detail(call: Call) -> dict:
    """``{"op_id"}``: one operation with the subscriber it belongs to."""
    op_id = call.args.object_id("op_id")
    operation = selectors.operation_for_1c(op_id)
    if operation is None:
        raise NotFound(_("Operation %(id)s not found") % {"id": op_id})
    subscriber = operation.account.subscriber
    return {
        **fin_oper(operation),
        "abonent_id": subscriber.pk,
        "contract_number": subscriber.contract_number,
        "abonent_name": subscriber.name,
        "abonent_code1c": subscriber.code1c,
        "storno": int(operation.is_reversed),
    }


def _import_payment(call: Call) -> dict:
    op_type = call.args.integer("op_type_id", default=int(OperationType.PAYMENT))
    if op_type != OperationType.PAYMENT:
        raise InvalidInput(
            _("Only payments (op_type_id 2) can be imported from 1C, not %(value)s")
            % {"value": op_type}
        )
    abon_code = call.args.text("abon_code1c", required=True)
    subscriber = selectors.subscriber_by_code1c(abon_code)
    if subscriber is None:
        raise NotFound(_("No subscriber has 1C code %(code)s") % {"code": abon_code[:64]})
    raw_sum = call.args.text("op_summa", required=True)
    if too_large(raw_sum):
        raise amount_too_large("op_summa")
    try:
        amount = parse_amount(raw_sum)  # 1C writes "1500,5": parse_amount takes the comma
    except (MoneyError, ArithmeticError):  # 27+ digits: decimal.InvalidOperation
        raise InvalidInput(
            _("op_summa must be a positive amount with at most 2 decimals, not %(value)s")
            % {"value": raw_sum[:32]}
        ) from None
    result = payment_import_1c(
        subscriber=subscriber,
        code1c=call.args.text("code1c", required=True),
        amount=amount,
        actor=call.actor,
        op_date=call.args.moment("op_date"),
        description=call.args.text("descr"),
    )
    return {"result": "ok", "op_id": result.operation.pk, "code1c": result.operation.code1c,
            "created": result.created}


@_api_1c("api_1c_sync_fin_oper", writes=True)
def api_1c_sync_fin_oper(call: Call) -> dict:
    """Two uses. ``{"pk", "code1c"}``: 1C made a document of our operation pk; remember
    its code. ``{"abon_code1c", "op_date": "yyyy-MM-dd", "op_summa", "descr", "code1c",
    "op_type_id": 2, "pr_number"?}``: a payment made in 1C (cash desk, bank); credit it
    exactly once per code1c (1C re-sends the whole period on every run)."""
    if call.args.present("abon_code1c") or call.args.present("op_summa"):
        return _import_payment(call)
    op_id = call.args.object_id("pk")
    operation = selectors.operation_by_id(op_id)
    if operation is None:
        raise NotFound(_("Operation %(id)s not found") % {"id": op_id})
    operation = operation_sync_1c(
        operation=operation, code1c=call.args.text("code1c", required=True), actor=call.actor
    )
    return {"result": "ok", "op_id": operation.pk, "code1c": operation.code1c, "created": False}
