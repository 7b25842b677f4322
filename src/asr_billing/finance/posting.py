"""The lean payment posting behind ``payment_register``: lock, insert, balance, state, audit.

Payments are the hot path (terminals, banks, gateways: DESIGN.md §5 budgets them against a
hand-written psycopg floor), so they do not go through the ORM's generic ``_post``. On
PostgreSQL one statement (``POST_SQL``) locks the account row, appends the ledger row, moves
the balance and writes the audit row; a second one (``STATE_SQL``) recomputes the negbal
state and audits a change. The same guarantees as the generic path hold:

- **lock before posting**: ``FOR NO KEY UPDATE`` on the account row; in READ COMMITTED a
  locking read that had to wait returns the row as the lock holder committed it, so the
  balance the new row starts from is never stale;
- **exactly once**: the insert has ``ON CONFLICT DO NOTHING`` over the ledger's unique
  indexes ((operator, external id) and the 1C code); when it inserts nothing, nothing else
  of the statement happens either (every later step reads the insert's ``RETURNING``), and
  the caller looks the original up;
- **state from fresh rows**: ``STATE_SQL`` is a separate statement, so in READ COMMITTED it
  sees whatever a transaction we waited for (a tariff change holds the account lock while it
  moves the tariff) committed; one statement reading the subscriber beside the lock would
  see it as it was before the wait.

On SQLite (one writer at a time: ``BEGIN IMMEDIATE`` already serialises every write) the
portable path does the same steps through the ORM.
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
from asr_billing.finance.models import Account, Operation, OperationType

# (account, op) -> one row: the balance before (NULL: no account), the new row's id and
# balance after (NULL: not inserted — a conflict, or the balance would overflow).
POST_SQL = """
WITH acc AS (
    SELECT subscriber_id, balance FROM finance_account
    WHERE subscriber_id = %(sid)s FOR NO KEY UPDATE
), ins AS (
    INSERT INTO finance_operation (account_id, type, amount, balance_after, op_date, created_at,
        description, created_by_id, actor, pay_operator_id, external_id, code1c, synced_1c)
    SELECT subscriber_id, %(type)s, %(amount)s, balance + %(amount)s, %(op_date)s, %(now)s,
        %(description)s, %(user_id)s, %(actor)s, %(operator_id)s, %(external_id)s,
        %(code1c)s, %(synced_1c)s
    FROM acc WHERE abs(balance + %(amount)s) < %(too_large)s
    ON CONFLICT DO NOTHING
    RETURNING id, balance_after
), upd AS (
    UPDATE finance_account SET balance = ins.balance_after, updated_at = %(now)s
    FROM ins WHERE subscriber_id = %(sid)s
    RETURNING 1
), aud AS (
    INSERT INTO core_auditentry (created_at, actor_user_id, actor, action, subscriber_id,
        object_type, object_id, old, new, message)
    SELECT %(now)s, %(user_id)s, %(actor)s, 'payment', %(sid)s, 'operation', ins.id::text,
        NULL, jsonb_build_object('amount', %(amount_text)s::text,
            'operator', %(operator_code)s::text, 'external_id', %(external_id)s::text,
            'balance', ins.balance_after::text), ''
    FROM ins
    RETURNING 1
)
SELECT acc.balance, ins.id, ins.balance_after,
    (SELECT count(*) FROM upd) + (SELECT count(*) FROM aud)
FROM acc LEFT JOIN ins ON true
"""

# negbal <=> balance + credit + promised < the tariff's disconnect threshold (finance.state);
# updated and audited only when it changes. -> one row: the new negbal.
STATE_SQL = """
WITH cur AS (
    SELECT s.id, s.negbal,
        a.balance + a.credit_limit + a.promised_amount
            < coalesce(t.disconnect_threshold, 0) AS want
    FROM subscribers_subscriber s
    JOIN finance_account a ON a.subscriber_id = s.id
    LEFT JOIN tariffs_tariff t ON t.id = s.tariff_id
    WHERE s.id = %(sid)s
), upd AS (
    UPDATE subscribers_subscriber s SET negbal = cur.want
    FROM cur WHERE s.id = cur.id AND s.negbal <> cur.want
    RETURNING s.id, s.negbal
), aud AS (
    INSERT INTO core_auditentry (created_at, actor_user_id, actor, action, subscriber_id,
        object_type, object_id, old, new, message)
    SELECT %(now)s, %(user_id)s, %(actor)s,
        CASE WHEN upd.negbal THEN 'negbal_on' ELSE 'negbal_off' END, upd.id,
        'subscriber', upd.id::text, jsonb_build_object('negbal', NOT upd.negbal),
        jsonb_build_object('negbal', upd.negbal, 'balance', %(balance_text)s::text), ''
    FROM upd
    RETURNING 1
)
SELECT cur.want, (SELECT count(*) FROM aud) FROM cur
"""


class Outcome(enum.Enum):
    POSTED = "posted"
    EXISTS = "exists"  # a unique index holds it already: the caller finds the original
    NO_ACCOUNT = "no_account"
    TOO_LARGE = "too_large"  # the balance would pass what the column holds


@dataclass(frozen=True)
class Posted:
    """What the posting did; the row's id, balance after and time when it was POSTED.
    Refusals are outcomes, not exceptions: no database error happened, and the caller's
    transaction stays usable without a savepoint."""

    outcome: Outcome
    operation_id: int | None = None
    balance_after: Decimal | None = None
    created_at: datetime | None = None


def payment_post(
    *,
    subscriber_id: int,
    amount: Decimal,
    op_date: datetime,
    now: datetime,
    description: str,
    actor: Actor,
    operator_id: int | None,
    operator_code: str | None,
    external_id: str,
    code1c: str,
) -> Posted:
    """Post one payment (``amount`` > 0, roubles, 2 places) to a subscriber's account in
    the caller's transaction."""
    who = actor_fields(actor)
    user = who["actor_user"]
    fields = {
        "sid": subscriber_id,
        "type": OperationType.PAYMENT,
        "amount": amount,
        "amount_text": str(amount),
        "op_date": op_date,
        "now": now,
        "description": description,
        "user_id": user.pk if user is not None else None,
        "actor": who["actor"],
        "operator_id": operator_id,
        "operator_code": operator_code,
        "external_id": external_id,
        "code1c": code1c,
        "synced_1c": bool(code1c),
        "too_large": TOO_LARGE,
    }
    if connection.vendor == "postgresql":
        return _post_postgresql(fields)
    return _post_portable(fields, actor)


def _post_postgresql(fields: dict) -> Posted:
    with prepared_cursor() as cursor:
        cursor.execute(POST_SQL, fields)
        row = cursor.fetchone()
        if row is None:
            return Posted(Outcome.NO_ACCOUNT)
        balance_before, operation_id, balance_after, _written = row
        if operation_id is None:
            if abs(balance_before + fields["amount"]) >= TOO_LARGE:
                return Posted(Outcome.TOO_LARGE)
            return Posted(Outcome.EXISTS)
        cursor.execute(STATE_SQL, {**fields, "balance_text": str(balance_after)})
    return Posted(Outcome.POSTED, operation_id, balance_after, fields["now"])


def _post_portable(fields: dict, actor: Actor) -> Posted:
    from asr_billing.finance.state import subscriber_state_refresh

    account = Account.objects.select_for_update().filter(pk=fields["sid"]).first()
    if account is None:
        return Posted(Outcome.NO_ACCOUNT)
    balance_after = (account.balance + fields["amount"]).quantize(CENT)
    if abs(balance_after) >= TOO_LARGE:
        return Posted(Outcome.TOO_LARGE)
    try:
        with transaction.atomic():
            operation = Operation.objects.create(
                account_id=fields["sid"],
                type=fields["type"],
                amount=fields["amount"],
                balance_after=balance_after,
                op_date=fields["op_date"],
                description=fields["description"],
                created_by_id=fields["user_id"],
                actor=fields["actor"],
                pay_operator_id=fields["operator_id"],
                external_id=fields["external_id"],
                code1c=fields["code1c"],
                synced_1c=fields["synced_1c"],
            )
    except IntegrityError:
        return Posted(Outcome.EXISTS)
    Account.objects.filter(pk=fields["sid"]).update(balance=balance_after, updated_at=fields["now"])
    AuditEntry.objects.create(
        actor_user_id=fields["user_id"],
        actor=fields["actor"],
        action="payment",
        subscriber_id=fields["sid"],
        object_type="operation",
        object_id=str(operation.pk),
        new={
            "amount": fields["amount_text"],
            "operator": fields["operator_code"],
            "external_id": fields["external_id"],
            "balance": str(balance_after),
        },
    )
    account.balance = balance_after
    subscriber_state_refresh(subscriber_id=fields["sid"], actor=actor, account=account)
    return Posted(Outcome.POSTED, operation.pk, balance_after, operation.created_at)
