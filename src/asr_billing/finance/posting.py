"""The lean payment posting behind ``payment_register``: find, lock, insert, balance,
state, audit.

Payments are the hot path (terminals, banks, gateways: DESIGN.md §5 budgets them against
a hand-written psycopg floor), so they do not go through the ORM's generic ``_post``.

On PostgreSQL the whole posting is one call of the function ``finance_payment_post``
(finance migration 0003, which documents it): in autocommit mode that call is the whole
transaction, one round trip instead of seven, and its plans are cached by the server.
Inside it the same guarantees hold as everywhere in the ledger:

- **lock before posting**: ``FOR NO KEY UPDATE`` on the account row; in READ COMMITTED a
  locking read that had to wait returns the row as the lock holder committed it, so the
  balance the new row starts from is never stale;
- **exactly once**: the insert has ``ON CONFLICT DO NOTHING`` over the ledger's unique
  indexes ((operator, external id) and the 1C code); when it inserts nothing, nothing
  else happens and the caller looks the original up (``Outcome.EXISTS``);
- **state from fresh rows**: the negbal recompute is a statement of its own after the
  lock, so it sees what a transaction we waited for committed (a tariff change holds the
  account lock while it moves the tariff).

On SQLite (one writer at a time: ``BEGIN IMMEDIATE`` already serialises every write) the
portable path does the same steps through the ORM in one transaction.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, connection, transaction

from asr_billing.core.audit import Actor, actor_fields
from asr_billing.core.db import prepared_cursor
from asr_billing.core.models import AuditEntry
from asr_billing.core.money import CENT, TOO_LARGE
from asr_billing.finance.models import Account, Operation, OperationType, PaymentOperator
from asr_billing.subscribers.selectors import login_ip, subscriber_ref_find

CALL_SQL = (
    "SELECT * FROM finance_payment_post(%(sid)s, %(key)s, %(key_ip)s, %(operator_id)s,"
    " %(operator_code)s, %(amount)s, %(op_date)s, %(now)s, %(description)s, %(user_id)s,"
    " %(actor)s, %(external_id)s, %(code1c)s, %(too_large)s)"
)


class Outcome(enum.Enum):
    POSTED = "posted"
    EXISTS = "exists"  # a unique index holds it already: the caller finds the original
    UNKNOWN_OPERATOR = "unknown_operator"
    DISABLED_OPERATOR = "disabled_operator"
    NO_SUBSCRIBER = "no_subscriber"
    NO_ACCOUNT = "no_account"
    TOO_LARGE = "too_large"  # the balance would pass what the column holds


@dataclass(frozen=True)
class Posted:
    """What the posting did. Refusals are outcomes, not exceptions: no database error
    happened and the caller's transaction stays usable without a savepoint. The ids are
    set as far as the posting got (the subscriber once found, the row once POSTED)."""

    outcome: Outcome
    subscriber_id: int | None = None
    contract_number: str | None = None  # when the subscriber was found by key
    operator_id: int | None = None
    operation_id: int | None = None
    balance_after: Decimal | None = None
    created_at: datetime | None = None


def payment_post(
    *,
    subscriber_id: int | None,
    key: str = "",
    operator_id: int | None,
    operator_code: str | None,
    amount: Decimal,
    op_date: datetime,
    now: datetime,
    description: str,
    actor: Actor,
    external_id: str,
    code1c: str,
) -> Posted:
    """Post one payment (``amount`` > 0, roubles, 2 places) to the subscriber with this
    id, or found by ``key`` (contract number, login, IP of an enabled login), through the
    operator with this id, or found by ``operator_code`` (no operator when both are
    None). Atomic by itself; joins the caller's transaction when there is one."""
    who = actor_fields(actor)
    user = who["actor_user"]
    fields = {
        "sid": subscriber_id,
        "key": key,
        "operator_id": operator_id,
        "operator_code": operator_code,
        "amount": amount,
        "op_date": op_date,
        "now": now,
        "description": description,
        "user_id": user.pk if user is not None else None,
        "actor": who["actor"],
        "external_id": external_id,
        "code1c": code1c,
        "too_large": TOO_LARGE,
    }
    if connection.vendor == "postgresql":
        return _post_postgresql(fields)
    with transaction.atomic():
        return _post_portable(fields, actor)


def _post_postgresql(fields: dict) -> Posted:
    fields["key_ip"] = login_ip(fields["key"]) if fields["sid"] is None else None
    with prepared_cursor() as cursor:
        cursor.execute(CALL_SQL, fields)
        status, operation_id, balance_after, sid, contract, operator_id = cursor.fetchone()
    return Posted(
        Outcome(status),
        subscriber_id=sid,
        contract_number=contract,
        operator_id=operator_id,
        operation_id=operation_id,
        balance_after=balance_after,
        created_at=fields["now"] if operation_id is not None else None,
    )


def _post_portable(fields: dict, actor: Actor) -> Posted:
    from asr_billing.finance.state import subscriber_state_refresh

    operator_id = fields["operator_id"]
    if operator_id is None and fields["operator_code"] is not None:
        operator = PaymentOperator.objects.filter(code=fields["operator_code"]).first()
        if operator is None:
            return Posted(Outcome.UNKNOWN_OPERATOR)
        if not operator.enabled:
            return Posted(Outcome.DISABLED_OPERATOR)
        operator_id = operator.pk
    sid, contract = fields["sid"], None
    if sid is None:
        found = subscriber_ref_find(fields["key"])
        if found is None:
            return Posted(Outcome.NO_SUBSCRIBER, operator_id=operator_id)
        sid, contract = found.pk, found.contract_number
    found_ids = {"subscriber_id": sid, "contract_number": contract, "operator_id": operator_id}
    account = Account.objects.select_for_update().filter(pk=sid).first()
    if account is None:
        return Posted(Outcome.NO_ACCOUNT, **found_ids)
    balance_after = (account.balance + fields["amount"]).quantize(CENT)
    if abs(balance_after) >= TOO_LARGE:
        return Posted(Outcome.TOO_LARGE, **found_ids)
    try:
        with transaction.atomic():
            operation = Operation.objects.create(
                account_id=sid,
                type=OperationType.PAYMENT,
                amount=fields["amount"],
                balance_after=balance_after,
                op_date=fields["op_date"],
                description=fields["description"],
                created_by_id=fields["user_id"],
                actor=fields["actor"],
                pay_operator_id=operator_id,
                external_id=fields["external_id"],
                code1c=fields["code1c"],
                synced_1c=bool(fields["code1c"]),
            )
    except IntegrityError:
        return Posted(Outcome.EXISTS, **found_ids)
    Account.objects.filter(pk=sid).update(balance=balance_after, updated_at=fields["now"])
    AuditEntry.objects.create(
        actor_user_id=fields["user_id"],
        actor=fields["actor"],
        action="payment",
        subscriber_id=sid,
        object_type="operation",
        object_id=str(operation.pk),
        new={
            "amount": str(fields["amount"]),
            "operator": fields["operator_code"],
            "external_id": fields["external_id"],
            "balance": str(balance_after),
        },
    )
    account.balance = balance_after
    subscriber_state_refresh(subscriber_id=sid, actor=actor, account=account)
    return Posted(
        Outcome.POSTED,
        **found_ids,
        operation_id=operation.pk,
        balance_after=balance_after,
        created_at=operation.created_at,
    )
