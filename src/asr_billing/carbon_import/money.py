"""The money of ``asr-billing import carbon`` (issue 15): what is read and how a source
object becomes our fields — the finance history (``FinanceOperations``), the promised
payments and voluntary blocks in force (``Abonents``), the accounts (``AdminAccounts``).

Read after the structure (kinds.py), in three passes:

1. ``FinanceOperations`` by increasing id, a page per transaction (ledger.py): new rows
   go in with Carbon's ids; an existing one is never updated.
2. ``Abonents`` (promise_pay, promise_date_end, own_disabled_start/end): which promised
   payments and voluntary blocks are in force, kept in memory for those subscribers only
   (balances.py, ``states_page``).
3. ``AdminAccounts``: credit limits, balances made equal to the source's (an opening
   balance where the history is trimmed), promises, blocks and the cut-off state
   (balances.py, ``accounts_page``).
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from asr_billing.carbon_import.kinds import Kind, _flag, _text, _typed
from asr_billing.core.errors import InvalidInput
from asr_billing.core.money import CENT, ZERO
from asr_billing.finance.models import Account, Operation, OperationType
from asr_billing.subscribers.models import Subscriber

ACTOR = "carbon_import"
# The source of the balance corrections the import posts (opening balances, adjustments):
# how a later run knows an account has had its opening balance, whatever the language.
OPENING_ACTOR = "carbon_import:opening"
TYPES = {choice.value for choice in OperationType}
# What "the same operation" means on a second run (balance_after only when the source
# gives it; dates at the wire's one-second precision).
COMPARED = ("account_id", "type", "amount", "op_date", "description", "pay_operator_id",
            "external_id", "code1c", "synced_1c", "reverses_id", "tariff_id", "service_id",
            "period_start", "period_end")


def opening_text() -> str:
    return _("Opening balance from Carbon import")


def adjustment_text() -> str:
    return _("Balance adjustment from Carbon import")



# --- conversions ----------------------------------------------------------------------


def operation_fields(data: dict) -> dict:
    """One FinanceOperations object as our Operation's fields, plus ``_summa``,
    ``_operator`` (code) and ``_operator_id`` (the source's) for the writer."""
    out: dict = {}
    _typed(data, "abonent_id", out, "account_id", "int")
    _typed(data, "op_type_id", out, "type", "int")
    _typed(data, "op_date", out, "op_date", "datetime")
    _typed(data, "op_summa", out, "_summa", "decimal")
    _typed(data, "balance_change", out, "amount", "decimal")
    _typed(data, "balance_after", out, "balance_after", "decimal")
    _typed(data, "storno_op_id", out, "reverses_id", "int")
    _text(data, "descr", out, "description")
    _typed(data, "operator_pay_id", out, "_operator_id", "int")
    _text(data, "operator_name", out, "_operator")
    _text(data, "operator_pay_id_str", out, "external_id")
    _text(data, "code1c", out, "code1c")
    _flag(data, "sync1c", out, "synced_1c")
    _typed(data, "tarif_id", out, "tariff_id", "int")
    _typed(data, "usluga_id", out, "service_id", "int")
    _typed(data, "period_start", out, "period_start", "date")
    _typed(data, "period_end", out, "period_end", "date")
    kind = out.get("type")
    if out.get("account_id") is None:
        raise InvalidInput(_("it has no subscriber"))
    if kind not in TYPES:
        raise InvalidInput(_("its type %(type)s is not one of ours (1, 2, 11, 20, 21)")
                           % {"type": kind})
    if out.get("op_date") is None:
        raise InvalidInput(_("it has no date"))
    if out.get("amount") is None:  # a Carbon without balance_change: the sign by type
        summa = out.get("_summa")
        if summa is None:
            raise InvalidInput(_("it has no amount"))
        if kind in (OperationType.CHARGE, OperationType.AGENT_INVOICE):
            out["amount"] = -abs(summa)
        elif kind == OperationType.PAYMENT:
            out["amount"] = abs(summa)
        elif kind == OperationType.CORRECTION:
            out["amount"] = summa
        # a reversal: minus the operation it cancels, found when it is written
    if out.get("amount") is not None:
        out["amount"] = out["amount"].quantize(CENT)
        if out["amount"] == 0:
            raise InvalidInput(_("its amount is 0.00"))
    if kind == OperationType.REVERSAL and out.get("reverses_id") is None:
        raise InvalidInput(_("it is a reversal that names no operation"))
    if kind != OperationType.REVERSAL:
        out["reverses_id"] = None
    if kind == OperationType.CHARGE:
        if (out.get("tariff_id") is None) == (out.get("service_id") is None):
            raise InvalidInput(_("it is a charge for no tariff or service (or both)"))
        if out.get("period_start") is None:  # a Carbon without periods: the day charged
            out["period_start"] = timezone.localdate(out["op_date"])
    code = out.pop("_operator", "") or ""
    if not code and out.get("_operator_id") is not None:
        code = f"carbon_{out['_operator_id']}"
    out["_operator"] = code[:64]
    if out.get("external_id") and not code:
        raise InvalidInput(_("it has a payment id but no payment operator"))
    return out


def account_fields(data: dict) -> dict:
    out: dict = {}
    _typed(data, "balance", out, "balance", "decimal")
    _typed(data, "credit", out, "credit_limit", "decimal")
    _typed(data, "promised_amount", out, "promised_amount", "decimal")
    if out.get("balance") is None:
        raise InvalidInput(_("it has no balance"))
    if out.get("credit_limit") is None and "credit_limit" in out:
        out["credit_limit"] = ZERO
    if (out.get("credit_limit") or ZERO) < 0:
        raise InvalidInput(_("its credit limit %(v)s is negative") % {"v": out["credit_limit"]})
    return out


def state_fields(data: dict) -> dict:
    out: dict = {}
    _flag(data, "promise_pay", out, "promise")
    _typed(data, "promise_date_end", out, "promise_end", "datetime")
    _typed(data, "own_disabled_start", out, "block_start", "date")
    _typed(data, "own_disabled_end", out, "block_end", "date")
    return out


OPERATIONS = Kind(
    "operations", gettext_lazy("operations"), gettext_lazy("operation"), "FinanceOperations",
    {}, Operation, ("abonent_id", "op_type_id", "op_date", "op_summa"),
    ("balance_change", "balance_after", "storno_op_id", "descr", "operator_pay_id",
     "operator_name", "operator_pay_id_str", "code1c", "sync1c", "tarif_id", "usluga_id",
     "period_start", "period_end"),
    operation_fields,
)
STATES = Kind(
    "states", gettext_lazy("promises and blocks"), gettext_lazy("subscriber"), "Abonents",
    {"is_folder": 0}, Subscriber, (),
    ("promise_pay", "promise_date_end", "own_disabled_start", "own_disabled_end"),
    state_fields,
)
ACCOUNTS = Kind(
    "accounts", gettext_lazy("accounts"), gettext_lazy("account"), "AdminAccounts", {},
    Account, ("balance", "credit"), ("promised_amount",), account_fields,
)
MONEY_KINDS = (OPERATIONS, STATES, ACCOUNTS)

