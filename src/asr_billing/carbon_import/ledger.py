"""The finance history of ``asr-billing import carbon``: a page of ``FinanceOperations``
written here with Carbon's ids, and the payment operators they name (issue 15).

Each page's new rows are written together (one multi-row insert: COPY on PostgreSQL,
executemany on SQLite) after the page's accounts are locked (``select_for_update``, by
id, the order every money service locks in); each account's balance moves by the sum of
its new rows in the same transaction (one executemany), so balance == sum(operations)
holds after every page. A row keeps the source's ``balance_after`` when the source gives
it (ours does; a Carbon without the field gets the running balance here, in id order).
A row that exists here with the same id is left alone when equal and skipped as a
conflict when it differs: the ledger is never updated. The page's reads are a fixed
number of queries whatever its size.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from asr_billing.carbon_import.money import ACTOR, COMPARED, OPENING_ACTOR
from asr_billing.carbon_import.report import Report
from asr_billing.core.audit import actor_fields
from asr_billing.core.errors import InvalidInput
from asr_billing.core.models import AuditEntry
from asr_billing.core.money import ZERO
from asr_billing.demo.common import RowWriter
from asr_billing.finance.models import Account, Operation, OperationType, PaymentOperator

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


@dataclass(slots=True)
class _Op:
    """One ledger row as the import reads and writes it: Operation's columns without the
    cost of a model instance (a million of them in a large import)."""

    pk: int
    account_id: int
    type: int
    amount: Decimal
    balance_after: Decimal | None
    op_date: datetime
    description: str
    actor: str
    pay_operator_id: int | None
    external_id: str
    code1c: str
    synced_1c: bool
    reverses_id: int | None
    tariff_id: int | None
    service_id: int | None
    period_start: date | None
    period_end: date | None


# Operation's columns in _Op's order (``pk`` is ``id``).
_COLUMNS = tuple(f.name for f in fields(_Op))


def _here(ids: list[int]) -> dict[int, _Op]:
    return {row[0]: _Op(*row) for row in Operation.objects.filter(pk__in=ids).values_list(
        *_COLUMNS)}


def _differs(op: _Op, new: _Op, with_balance: bool) -> list[str]:
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
        # Found by the accounts (operation_account_date); the type is tested here. With
        # type = CHARGE in the WHERE, SQLite (no statistics) took the (type, op_date, ...)
        # index and read every charge of the ledger for each page: 40 ms a page at
        # 360,000 charges, a third of a repeated import. Only charges have a period_start.
        query = Operation.objects.filter(
            account_id__in={f["account_id"] for f in charges},
            period_start__in={f["period_start"] for f in charges})
        taken["charge"] = {(a, t, s, p): pk for pk, kind, a, t, s, p in query.values_list(
            "pk", "type", "account_id", "tariff_id", "service_id", "period_start")
            if kind == OperationType.CHARGE}
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
    existing = _here(ids)
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
    new: list[_Op] = []
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
        op = _Op(
            pk, f["account_id"], f["type"], amount, f.get("balance_after"), f["op_date"],
            f.get("description", ""), who["actor"],
            operators.get(f["_operator"]) if f["_operator"] else None,
            f.get("external_id", ""), f.get("code1c", ""),
            f.get("synced_1c", bool(f.get("code1c"))), f.get("reverses_id"),
            f.get("tariff_id"), f.get("service_id"), f.get("period_start"),
            f.get("period_end"))
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


def _synced_since(here: _Op, op: _Op, changed: list[str], report: Report) -> bool:
    """1C took the operation at the source since the last run (a daily exchange between
    the night-before run and the switch): the same mark here, through the service 1C
    uses (the money is not touched). False when anything else differs."""
    if not set(changed) <= {"code1c", "synced_1c"} or here.code1c or not op.code1c:
        return False
    from asr_billing.core.errors import Conflict
    from asr_billing.finance.services import operation_sync_1c

    try:
        with transaction.atomic():
            operation_sync_1c(operation=Operation.objects.get(pk=here.pk), code1c=op.code1c,
                              actor=ACTOR)
    except (Conflict, InvalidInput) as exc:
        report.skip("operations", here.pk, str(exc))
        return True
    report.count("operations", "updated")
    return True


def _rule(op: _Op) -> str:
    """The ledger's row rules the database would refuse, with a reason."""
    if op.type == OperationType.PAYMENT and op.amount <= 0:
        return _("a payment of %(amount)s is not positive") % {"amount": op.amount}
    if op.type in (OperationType.CHARGE, OperationType.AGENT_INVOICE) and op.amount >= 0:
        return _("a charge of %(amount)s is not negative") % {"amount": op.amount}
    if op.period_end is not None and op.period_start is not None and (
            op.period_end < op.period_start):
        return _("its period ends before it starts")
    return ""


def _with_balances(ops: list[_Op], start: dict[int, Decimal]) -> dict[int, Decimal]:
    """Fill in each row's balance_after the source did not give (the running balance in id
    order); returns each account's balance after the rows."""
    balances = dict(start)
    for op in ops:
        balances[op.account_id] += op.amount
        if op.balance_after is None:
            op.balance_after = balances[op.account_id]
    return balances


def _write(ops: list[_Op]) -> None:
    """The rows in one statement (COPY on PostgreSQL, executemany on SQLite): building
    each row through the ORM's insert costs more than the database's work."""
    writer = RowWriter()
    rows = [(op.pk, op.account_id, op.type, op.amount, op.balance_after,
             writer.dt(op.op_date), op.description, op.actor, op.pay_operator_id,
             op.external_id, op.code1c, op.synced_1c, op.reverses_id, op.tariff_id,
             op.service_id, op.period_start, op.period_end) for op in ops]
    with connection.wrap_database_errors:  # COPY's refusal as Django's IntegrityError
        writer.write(Operation, ("id", *_COLUMNS[1:]), rows)


def _insert(new: list[_Op], start: dict[int, Decimal], report: Report) -> None:
    given = [op.balance_after for op in new]
    after = _with_balances(new, start)
    try:
        with transaction.atomic():
            _write(new)
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
                    Operation(**{n: getattr(op, n) for n in _COLUMNS}).save(force_insert=True)
            except IntegrityError as exc:
                after[op.account_id] -= op.amount
                report.skip("operations", op.pk, " ".join(str(exc).split())[:300])
                continue
            written.append(op)
    now = RowWriter().dt(timezone.now())
    moved = [(balance, now, account_id) for account_id, balance in after.items()
             if balance != start[account_id]]
    if moved:  # one statement for the page's accounts (locked above)
        table = connection.ops.quote_name(Account._meta.db_table)
        with connection.cursor() as cursor:
            cursor.executemany(f"UPDATE {table} SET balance = %s, updated_at = %s "  # noqa: S608 - the model's table
                               "WHERE subscriber_id = %s", moved)
    report.count("operations", "created", len(written))
    if written:
        AuditEntry.objects.create(
            **actor_fields(ACTOR), action="carbon_import_create", object_type="operation",
            object_id=f"{written[0].pk}-{written[-1].pk}"[:50],
            new={"count": len(written), "sum": str(sum((op.amount for op in written), ZERO))})
