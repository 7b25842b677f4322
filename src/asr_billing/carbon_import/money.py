"""The money of ``asr-billing import carbon``: payment operators, the finance history,
balances with credit limits, promised payments and voluntary blocks in force (issue 15).

Read after the structure (kinds.py), in three passes:

1. ``FinanceOperations`` by increasing id, a page per transaction. Each page's new rows
   are written with ``bulk_create`` and Carbon's ids, after the page's accounts are locked
   (``select_for_update``, by id): each account's balance moves by the sum of its new rows
   in the same transaction, so balance == sum(operations) holds after every page. A row
   keeps the source's ``balance_after`` when the source gives it (ours does; a Carbon
   without the field gets the running balance here, in id order). A row that exists here
   with the same id is left alone when equal and skipped as a conflict when it differs:
   the ledger is never updated. Payment operators the rows name are created by code.
2. ``Abonents`` (promise_pay, promise_date_end, own_disabled_start/end): which promised
   payments and voluntary blocks are in force, kept in memory for those subscribers only.
3. ``AdminAccounts``: the credit limit; the balance, made equal to the source's by ONE
   opening-balance correction per account where the imported history does not sum to it
   (history trimmed at the source), dated a second before the account's earliest imported
   operation; if a later run finds a difference again (the source changed without a
   ledger row we could read), a balance adjustment dated now; the promised payment and
   voluntary block in force; then the cut-off state (negbal) from all of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Max, Min
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from asr_billing.billing.models import PromisedPayment, VoluntaryBlock
from asr_billing.billing.options import billing_options
from asr_billing.billing.periods import local_today
from asr_billing.carbon_import.kinds import Kind, _flag, _text, _typed
from asr_billing.carbon_import.report import Report
from asr_billing.core.audit import actor_fields, audit_record
from asr_billing.core.errors import InvalidInput
from asr_billing.core.models import AuditEntry
from asr_billing.core.money import CENT, ZERO
from asr_billing.finance.models import Account, Operation, OperationType, PaymentOperator
from asr_billing.finance.state import subscriber_state_refresh
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


# --- payment operators ----------------------------------------------------------------


def operators_ensure(*, wanted: dict[str, int | None], report: Report) -> dict[str, int]:
    """code -> our id for every code in ``wanted`` (code -> the source's id); a missing
    operator is created with that code as its name, under the source's id when it is free
    here."""
    have = dict(PaymentOperator.objects.filter(code__in=wanted).values_list("code", "pk"))
    missing = sorted(set(wanted) - set(have))
    if missing:
        ids = {pk for pk in (wanted[c] for c in missing) if pk is not None}
        taken = set(PaymentOperator.objects.filter(pk__in=ids).values_list("pk", flat=True))
        for code in missing:
            pk = wanted[code] if wanted[code] not in taken else None
            operator = PaymentOperator.objects.create(pk=pk, code=code, name=code)
            taken.add(operator.pk)
            have[code] = operator.pk
            AuditEntry.objects.create(
                **actor_fields(ACTOR), action="carbon_import_create",
                object_type="paymentoperator", object_id=str(operator.pk),
                new={"code": code, "name": code})
            report.count("pay_operators", "created")
    return have


# --- the finance history --------------------------------------------------------------


def _differs(op: Operation, new: Operation, with_balance: bool) -> list[str]:
    names = [n for n in COMPARED if getattr(op, n) != getattr(new, n)]
    if with_balance and op.balance_after != new.balance_after:
        names.append("balance_after")
    return names


def _taken(rows: list[tuple[int, dict]], operators: dict[str, int]) -> dict[str, dict]:
    """The holders here of the page's exactly-once keys (one query per key)."""
    payments = {(operators.get(f["_operator"]), f["external_id"])
                for _pk, f in rows if f.get("external_id")}
    codes = {f["code1c"] for _pk, f in rows if f.get("code1c")}
    charges = [f for _pk, f in rows if f["type"] == OperationType.CHARGE]
    reversed_ids = {f["reverses_id"] for _pk, f in rows if f.get("reverses_id")}
    taken: dict[str, dict] = {"payment": {}, "code1c": {}, "charge": {}, "reverses": {}}
    if payments:
        query = Operation.objects.filter(
            pay_operator_id__in={p for p, _e in payments},
            external_id__in={e for _p, e in payments})
        taken["payment"] = {(p, e): pk for pk, p, e in
                            query.values_list("pk", "pay_operator_id", "external_id")}
    if codes:
        taken["code1c"] = dict(Operation.objects.filter(code1c__in=codes)
                               .values_list("code1c", "pk"))
    if charges:
        query = Operation.objects.filter(
            type=OperationType.CHARGE, account_id__in={f["account_id"] for f in charges},
            period_start__in={f["period_start"] for f in charges})
        taken["charge"] = {(a, t, s, p): pk for pk, a, t, s, p in query.values_list(
            "pk", "account_id", "tariff_id", "service_id", "period_start")}
    if reversed_ids:
        taken["reverses"] = dict(Operation.objects.filter(reverses_id__in=reversed_ids)
                                 .values_list("reverses_id", "pk"))
    return taken


def _keys(f: dict, operator_id) -> list[tuple[str, object]]:
    """(key kind, key) of one row's exactly-once keys."""
    keys: list[tuple[str, object]] = []
    if f.get("external_id"):
        keys.append(("payment", (operator_id, f["external_id"])))
    if f.get("code1c"):
        keys.append(("code1c", f["code1c"]))
    if f["type"] == OperationType.CHARGE:
        keys.append(("charge", (f["account_id"], f.get("tariff_id"), f.get("service_id"),
                                f["period_start"])))
    if f.get("reverses_id"):
        keys.append(("reverses", f["reverses_id"]))
    return keys


def _clash_text(key_kind: str, f: dict, holder: int) -> str:
    if key_kind == "payment":
        return _("its payment %(op)s %(ext)s is operation %(holder)s here") % {
            "op": f["_operator"], "ext": f["external_id"], "holder": holder}
    if key_kind == "code1c":
        return _("its 1C code %(code)s is operation %(holder)s here") % {
            "code": f["code1c"], "holder": holder}
    if key_kind == "charge":
        return _("its charge for %(day)s is operation %(holder)s here") % {
            "day": f["period_start"], "holder": holder}
    return _("operation %(id)s is already reversed by operation %(holder)s here") % {
        "id": f["reverses_id"], "holder": holder}


def operations_page(*, rows: list[tuple[int, dict]], report: Report) -> None:
    """Write a page of FinanceOperations rows; call inside the page's transaction."""
    if not rows:
        return
    ids = [pk for pk, _f in rows]
    accounts = sorted({f["account_id"] for _pk, f in rows})
    # Lock first, by id (the order every money service locks in), then read.
    balances = dict(Account.objects.select_for_update().filter(pk__in=accounts)
                    .order_by("pk").values_list("pk", "balance"))
    existing = Operation.objects.in_bulk(ids)
    wanted = {}
    for _pk, f in rows:
        if f["_operator"]:
            wanted.setdefault(f["_operator"], f.get("_operator_id"))
    operators = operators_ensure(wanted=wanted, report=report) if wanted else {}
    taken = _taken(rows, operators)
    targets = dict(Operation.objects.filter(pk__in={f["reverses_id"] for _pk, f in rows
                                                    if f.get("reverses_id")})
                   .values_list("pk", "amount"))
    from asr_billing.tariffs.models import Service, Tariff

    tariffs = set(Tariff.objects.filter(pk__in={f["tariff_id"] for _pk, f in rows
                                                if f.get("tariff_id")})
                  .values_list("pk", flat=True))
    services = set(Service.objects.filter(pk__in={f["service_id"] for _pk, f in rows
                                                  if f.get("service_id")})
                   .values_list("pk", flat=True))
    who = actor_fields(ACTOR)
    new: list[Operation] = []
    for pk, f in rows:
        reason = ""
        if f["account_id"] not in balances:
            reason = (_("its subscriber %(id)s was skipped") if report.was_skipped(
                "subscribers", f["account_id"]) else _("its subscriber %(id)s is not here")) % {
                "id": f["account_id"]}
        elif f.get("tariff_id") and f["tariff_id"] not in tariffs:
            reason = _("its tariff %(id)s is not here") % {"id": f["tariff_id"]}
        elif f.get("service_id") and f["service_id"] not in services:
            reason = _("its service %(id)s is not here") % {"id": f["service_id"]}
        elif f.get("reverses_id") and f["reverses_id"] not in targets:
            reason = _("the operation %(id)s it reverses is not here") % {"id": f["reverses_id"]}
        if reason:
            report.skip("operations", pk, reason)
            continue
        amount = f.get("amount")
        if amount is None:  # a reversal from a Carbon without balance_change
            amount = -targets[f["reverses_id"]]
        op = Operation(
            pk=pk, account_id=f["account_id"], type=f["type"], amount=amount,
            balance_after=f.get("balance_after"), op_date=f["op_date"],
            description=f.get("description", ""), actor=who["actor"],
            pay_operator_id=operators.get(f["_operator"]) if f["_operator"] else None,
            external_id=f.get("external_id", ""), code1c=f.get("code1c", ""),
            synced_1c=f.get("synced_1c", bool(f.get("code1c"))),
            reverses_id=f.get("reverses_id"), tariff_id=f.get("tariff_id"),
            service_id=f.get("service_id"), period_start=f.get("period_start"),
            period_end=f.get("period_end"))
        here = existing.get(pk)
        if here is not None and here.actor == OPENING_ACTOR:  # Carbon went on after a run
            report.skip("operations", pk, _(
                "its id is held here by the opening balance of subscriber %(id)s that an "
                "earlier import posted (Carbon took new operations after it: docs/"
                "migration.md, The money)") % {"id": here.account_id})
            continue
        if here is not None:
            changed = _differs(here, op, f.get("balance_after") is not None)
            if changed and _synced_since(here, op, changed, report):
                continue
            if changed:
                report.skip("operations", pk, _(
                    "it is here already and differs (%(fields)s); the ledger is not "
                    "changed") % {"fields": ", ".join(changed)})
            else:
                report.count("operations", "unchanged")
            continue
        clash = ""
        keys = _keys(f, op.pay_operator_id)
        for key_kind, key in keys:
            holder = taken[key_kind].get(key)
            if holder is not None:
                clash = _clash_text(key_kind, f, holder)
                break
        if not clash and (err := _rule(op)):
            clash = err
        if clash:
            report.skip("operations", pk, clash)
            continue
        for key_kind, key in keys:
            taken[key_kind][key] = pk
        targets[pk] = op.amount  # a later row of the page may reverse it
        new.append(op)
    if not new:
        return
    _insert(new, balances, report)


def _synced_since(here: Operation, op: Operation, changed: list[str], report: Report) -> bool:
    """1C took the operation at the source since the last run (a daily exchange between
    the night-before run and the switch): the same mark here, through the service 1C
    uses (the money is not touched). False when anything else differs."""
    if not set(changed) <= {"code1c", "synced_1c"} or here.code1c or not op.code1c:
        return False
    from asr_billing.core.errors import Conflict
    from asr_billing.finance.services import operation_sync_1c

    try:
        with transaction.atomic():
            operation_sync_1c(operation=here, code1c=op.code1c, actor=ACTOR)
    except (Conflict, InvalidInput) as exc:
        report.skip("operations", here.pk, str(exc))
        return True
    report.count("operations", "updated")
    return True


def _rule(op: Operation) -> str:
    """The ledger's row rules the database would refuse, with a reason."""
    if op.type == OperationType.PAYMENT and op.amount <= 0:
        return _("a payment of %(amount)s is not positive") % {"amount": op.amount}
    if op.type in (OperationType.CHARGE, OperationType.AGENT_INVOICE) and op.amount >= 0:
        return _("a charge of %(amount)s is not negative") % {"amount": op.amount}
    if op.period_end is not None and op.period_start is not None and (
            op.period_end < op.period_start):
        return _("its period ends before it starts")
    return ""


def _with_balances(ops: list[Operation], start: dict[int, Decimal]) -> dict[int, Decimal]:
    """Fill in each row's balance_after the source did not give (the running balance in id
    order); returns each account's balance after the rows."""
    balances = dict(start)
    for op in ops:
        balances[op.account_id] += op.amount
        if op.balance_after is None:
            op.balance_after = balances[op.account_id]
    return balances


def _insert(new: list[Operation], start: dict[int, Decimal], report: Report) -> None:
    given = [op.balance_after for op in new]
    after = _with_balances(new, start)
    try:
        with transaction.atomic():
            Operation.objects.bulk_create(new)
        written = new
    except IntegrityError:  # a rule we did not foresee: row by row, to name the culprit
        written = []
        for op, balance in zip(new, given, strict=True):
            op.balance_after = balance
        after = dict(start)
        for op in new:
            after[op.account_id] += op.amount
            if op.balance_after is None:
                op.balance_after = after[op.account_id]
            try:
                with transaction.atomic():
                    op.save(force_insert=True)
            except IntegrityError as exc:
                after[op.account_id] -= op.amount
                report.skip("operations", op.pk, " ".join(str(exc).split())[:300])
                continue
            written.append(op)
    now = timezone.now()
    for account_id, balance in after.items():
        if balance != start[account_id]:
            Account.objects.filter(pk=account_id).update(balance=balance, updated_at=now)
    report.count("operations", "created", len(written))
    if written:
        AuditEntry.objects.create(
            **actor_fields(ACTOR), action="carbon_import_create", object_type="operation",
            object_id=f"{written[0].pk}-{written[-1].pk}"[:50],
            new={"count": len(written), "sum": str(sum((op.amount for op in written), ZERO))})


# --- accounts, promised payments, voluntary blocks, negbal ----------------------------


@dataclass
class State:
    """What a subscriber has in force at the source (only those that have something)."""

    promise_end: datetime | None = None
    block: tuple[date, date] | None = None


@dataclass
class Openings:
    """Balance corrections posted by this run: (account id, amount, opening or not)."""

    posted: list = field(default_factory=list)
    next_id: int | None = None  # a dry run numbers them itself (its sequence is not reset)


def _today() -> date:
    return local_today(billing_options().time_zone)


def states_page(*, rows: list[tuple[int, dict]], states: dict[int, State]) -> None:
    now = timezone.now()
    today = _today()
    for pk, f in rows:
        end = f.get("promise_end")
        promise = end if f.get("promise") and end is not None and end > now else None
        start, last = f.get("block_start"), f.get("block_end")
        block = (start, last) if start and last and last >= today and last >= start else None
        if promise or block:
            states[pk] = State(promise, block)


def _post_correction(account: Account, amount: Decimal, *, opening: bool, op_date: datetime,
                     balance_after: Decimal, openings: Openings) -> Operation:
    pk = None
    if openings.next_id is not None:
        pk, openings.next_id = openings.next_id, openings.next_id + 1
    op = Operation.objects.create(
        pk=pk, account=account, type=OperationType.CORRECTION, amount=amount,
        balance_after=balance_after, op_date=op_date, actor=OPENING_ACTOR,
        description=opening_text() if opening else adjustment_text())
    account.balance += amount
    Account.objects.filter(pk=account.pk).update(balance=account.balance,
                                                 updated_at=timezone.now())
    openings.posted.append((account.pk, amount, opening))
    audit_record(actor=ACTOR, action="carbon_import_opening" if opening else
                 "carbon_import_adjustment", obj=op, subscriber=account.subscriber,
                 new={"amount": str(amount), "balance": str(account.balance)},
                 message=op.description)
    return op


def accounts_page(*, rows: list[tuple[int, dict]], states: dict[int, State],
                  report: Report, openings: Openings) -> None:
    """Credit limits, balances, promised payments and blocks of a page of AdminAccounts;
    call inside the page's transaction."""
    ids = sorted(pk for pk, _f in rows)
    locked = {a.pk: a for a in Account.objects.select_for_update(of=("self",))
              .select_related("subscriber").filter(pk__in=ids).order_by("pk")}
    ours = set(Operation.objects.filter(account_id__in=ids, type=OperationType.CORRECTION,
                                        actor=OPENING_ACTOR)
               .values_list("account_id", flat=True))
    earliest = dict(Operation.objects.filter(account_id__in=ids).values("account_id")
                    .annotate(first=Min("op_date")).values_list("account_id", "first"))
    promised = {p.subscriber_id: p for p in PromisedPayment.objects.filter(
        subscriber_id__in=ids, closed_at__isnull=True)}
    blocks = {}
    for block in VoluntaryBlock.objects.filter(subscriber_id__in=ids, ended_at__isnull=True,
                                               end_date__gte=_today()):
        blocks.setdefault(block.subscriber_id, []).append(block)
    now = timezone.now()
    for pk, f in rows:
        account = locked.get(pk)
        if account is None:
            reason = (_("its subscriber %(id)s was skipped") if report.was_skipped(
                "subscribers", pk) else _("its subscriber %(id)s is not here")) % {"id": pk}
            report.skip("accounts", pk, reason)
            continue
        changed = False
        credit = f.get("credit_limit")
        if credit is not None and credit != account.credit_limit:
            audit_record(actor=ACTOR, action="carbon_import_update", obj=account,
                         subscriber=account.subscriber,
                         old={"credit_limit": str(account.credit_limit)},
                         new={"credit_limit": str(credit)})
            account.credit_limit = credit
            Account.objects.filter(pk=pk).update(credit_limit=credit, updated_at=now)
            changed = True
        difference = f["balance"] - account.balance
        if difference:
            opening = pk not in ours
            if opening and pk in earliest:
                op_date = earliest[pk] - timedelta(seconds=1)
                balance_after = difference  # the balance before the imported history
            else:
                op_date, balance_after = now, f["balance"]
            _post_correction(account, difference, opening=opening, op_date=op_date,
                             balance_after=balance_after, openings=openings)
            changed = True
        state = states.get(pk)
        if state is not None and state.promise_end is not None:
            changed |= _promise(account, state.promise_end, f.get("promised_amount"),
                                promised.get(pk), report, now)
        if state is not None and state.block is not None:
            changed |= _block(account.subscriber, state.block, blocks.get(pk, []), report)
        negbal = account.subscriber.negbal
        if subscriber_state_refresh(subscriber_id=pk, actor=ACTOR, account=account) != negbal:
            changed = True
        report.count("accounts", "updated" if changed else "unchanged")


def _promise(account: Account, end: datetime, amount, here, report: Report,
             now: datetime) -> bool:
    if here is not None:  # one in force here already: left as it is
        report.count("promised", "unchanged")
        return False
    if not amount or amount <= 0:
        report.skip("promised", account.pk, _(
            "the source does not give the promised payment's amount (AdminAccounts "
            "promised_amount)"))
        return False
    promise = PromisedPayment.objects.create(
        subscriber_id=account.pk, amount=amount, created_at=now, expires_at=end, actor=ACTOR)
    account.promised_amount += amount
    Account.objects.filter(pk=account.pk).update(promised_amount=account.promised_amount)
    audit_record(actor=ACTOR, action="carbon_import_create", obj=promise,
                 subscriber=account.subscriber,
                 new={"amount": str(amount), "expires_at": end.isoformat()})
    report.count("promised", "created")
    return True


def _block(subscriber: Subscriber, days: tuple[date, date], here: list, report: Report) -> bool:
    start, end = days
    if any(b.start_date == start and b.end_date == end for b in here):
        report.count("blocks", "unchanged")
        return False
    if here:
        other = here[0]
        report.skip("blocks", subscriber.pk, _(
            "the source's block %(start)s…%(end)s: subscriber %(id)s has the block "
            "%(here_start)s…%(here_end)s here") % {
            "start": start, "end": end, "id": subscriber.pk, "here_start": other.start_date,
            "here_end": other.end_date})
        return False
    block = VoluntaryBlock.objects.create(subscriber=subscriber, start_date=start,
                                          end_date=end, actor=ACTOR)
    audit_record(actor=ACTOR, action="carbon_import_create", obj=block, subscriber=subscriber,
                 new={"start_date": start.isoformat(), "end_date": end.isoformat()})
    if start <= _today() and not subscriber.voluntary_blocked:
        Subscriber.objects.filter(pk=subscriber.pk).update(voluntary_blocked=True)
        subscriber.voluntary_blocked = True
        audit_record(actor=ACTOR, action="voluntary_block_on", obj=block,
                     subscriber=subscriber, old={"voluntary_blocked": False},
                     new={"voluntary_blocked": True})
    report.count("blocks", "created")
    return True


def dry_run_next_id() -> int:
    return (Operation.objects.aggregate(top=Max("pk"))["top"] or 0) + 1
