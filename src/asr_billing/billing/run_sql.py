"""The set-based charging batch for PostgreSQL: one statement per batch of subscribers.

A loop of one ORM transaction per subscriber costs ~1 ms each (1,000,000 subscribers:
over 15 minutes). Here a batch (ids lo..hi) is one transaction:

1. lock the batch's account rows in id order (two runs, or a payment, wait here; ids in
   order so two runs never deadlock);
2. one statement computes the charges due by the rules of rules.py for the subscribers
   without tariff changes or voluntary blocks near the day (those go through the
   portable path in the same transaction), leaves out what is posted already (one index
   probe per subscriber), inserts the rest with their running ``balance_after`` (ON
   CONFLICT DO NOTHING on the same unique keys as finance.services.charge_post), moves
   the balances, recomputes negbal for the charged subscribers and writes an audit row
   per transition — also for the transitions of the portable part, which runs first,
   so that a batch's audit rows are in subscriber id order either way.

Under the lock nothing else can post for these accounts, so the probes are exact: every
row due is inserted. The statement returns both counts and charge_range refuses a batch
where they differ (it is then rolled back and done subscriber by subscriber), so the
ON CONFLICT clause is a second line of defence that can never leave a balance moved by
a row that is not there.

Why the SQL looks the way it does: planner estimates of CTE scans are poor, so nothing
joins two CTEs (the data each step needs is carried along in columns) and the "already
charged" test is a LATERAL ... LIMIT 1 probe, never an anti-join the planner could turn
into a nested loop over the batch squared (seen: 18 s for a batch of 10,000; now 0.5 s).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import DatabaseError, connection

from asr_billing.billing.options import POLICY_CODES
from asr_billing.billing.periods import Month, cents, day_share
from asr_billing.billing.rules import describe
from asr_billing.core.money import ZERO
from asr_billing.tariffs.models import ChargeMethod, PartialMonth

LOCK_SQL = """
SELECT count(*) FROM (
    SELECT 1 FROM finance_account
    WHERE subscriber_id BETWEEN %(lo)s AND %(hi)s
    ORDER BY subscriber_id
    FOR UPDATE
) locked
"""

CHARGE_SQL = """
WITH tp AS (
    SELECT * FROM unnest(
        %(t_id)s::bigint[], %(t_method)s::text[], %(t_amount)s::numeric[], %(t_q)s::bigint[],
        %(t_r)s::int[], %(t_cdate)s::date[], %(t_full)s::bool[], %(t_policy)s::int[],
        %(t_descr)s::text[], %(t_threshold)s::numeric[]
    ) AS t(id, method, amount, q, r, cdate, full_month, policy, descr, threshold)
),
sp AS (
    SELECT * FROM unnest(
        %(s_id)s::bigint[], %(s_method)s::text[], %(s_amount)s::numeric[], %(s_q)s::bigint[],
        %(s_r)s::int[], %(s_descr)s::text[]
    ) AS t(id, method, amount, q, r, descr)
),
sub AS MATERIALIZED (
    SELECT s.id, s.tariff_id, a.balance,
           a.balance + a.credit_limit + a.promised_amount AS avail,
           a.credit_limit + a.promised_amount AS extra,
           COALESCE(tp.threshold, 0) AS threshold, s.negbal,
           COALESCE(s.connected_on, (s.created_at AT TIME ZONE %(tz)s)::date) AS st,
           COALESCE(tp.policy, %(default_policy)s) AS policy
    FROM subscribers_subscriber s
    JOIN finance_account a ON a.subscriber_id = s.id
    LEFT JOIN tp ON tp.id = s.tariff_id
    WHERE s.id BETWEEN %(lo)s AND %(hi)s
      AND a.subscriber_id BETWEEN %(lo)s AND %(hi)s
      AND s.id <> ALL(%(special)s::bigint[])
      AND (%(charge_admin)s OR NOT s.admin_blocked)
),
tc AS (
    SELECT sub.id AS account_id, tp.id AS tariff_id, c.ps, c.pe, c.amount, tp.descr,
           sub.balance, sub.avail, sub.policy, sub.extra, sub.threshold, sub.negbal
    FROM sub
    JOIN tp ON tp.id = sub.tariff_id
    CROSS JOIN LATERAL (
        SELECT CASE tp.method WHEN 'monthly' THEN GREATEST(%(m_first)s::date, sub.st)
                              WHEN 'once' THEN sub.st ELSE %(d)s::date END AS ps,
               CASE tp.method WHEN 'monthly' THEN %(m_last)s::date
                              WHEN 'once' THEN sub.st ELSE %(d)s::date END AS pe,
               CASE WHEN tp.method <> 'monthly' OR sub.st <= %(m_first)s OR tp.full_month
                    THEN tp.amount
                    ELSE (((%(m_last)s::date - sub.st + 1) * tp.q
                           + GREATEST(0, tp.r - extract(day FROM sub.st)::int + 1))::numeric
                          / 100)::numeric(14, 2)
               END AS amount
    ) c
    -- Already charged? One index probe per subscriber (LIMIT 1 keeps it a probe whatever
    -- the planner estimates): the exact key, or any part of the month for monthly.
    LEFT JOIN LATERAL (
        SELECT 1 AS hit FROM finance_operation o
        WHERE o.account_id = sub.id AND o.type = 1 AND o.tariff_id = tp.id
          AND o.period_start BETWEEN c.ps AND c.pe
        LIMIT 1
    ) done ON true
    WHERE done.hit IS NULL
      AND CASE tp.method
            WHEN 'monthly' THEN GREATEST(tp.cdate, c.ps) <= %(d)s
            WHEN 'once' THEN sub.st BETWEEN %(lookback)s AND %(d)s
            ELSE sub.st <= %(d)s
          END
),
sc AS (
    SELECT DISTINCT ON (sub.id, sp.id)
           sub.id AS account_id, sp.id AS service_id, c.ps, c.pe, c.amount, sp.descr,
           sub.balance, sub.avail, sub.policy, sub.extra, sub.threshold, sub.negbal
    FROM sub
    JOIN subscribers_subscriberservice ss ON ss.subscriber_id = sub.id
    JOIN sp ON sp.id = ss.service_id
    CROSS JOIN LATERAL (
        SELECT CASE sp.method WHEN 'once' THEN ss.enabled_on
                              WHEN 'monthly' THEN GREATEST(%(m_first)s::date, sub.st, ss.enabled_on)
                              ELSE %(d)s::date END AS ps,
               CASE sp.method WHEN 'once' THEN ss.enabled_on
                              WHEN 'monthly' THEN %(m_last)s::date
                              ELSE %(d)s::date END AS pe,
               -- the probe: monthly services look at the whole month
               CASE sp.method WHEN 'monthly' THEN %(m_first)s::date
                              WHEN 'once' THEN ss.enabled_on ELSE %(d)s::date END AS probe,
               CASE WHEN sp.method <> 'monthly' OR p.since <= %(m_first)s THEN sp.amount
                    ELSE (((%(m_last)s::date - p.since + 1) * sp.q
                           + GREATEST(0, sp.r - extract(day FROM p.since)::int + 1))::numeric
                          / 100)::numeric(14, 2)
               END AS amount
        FROM (SELECT GREATEST(sub.st, ss.enabled_on) AS since) p
    ) c
    LEFT JOIN LATERAL (
        SELECT 1 AS hit FROM finance_operation o
        WHERE o.account_id = sub.id AND o.type = 1 AND o.service_id = sp.id
          AND o.period_start BETWEEN c.probe AND c.pe
        LIMIT 1
    ) done ON true
    WHERE ss.subscriber_id BETWEEN %(lo)s AND %(hi)s
      AND done.hit IS NULL
      AND CASE sp.method
            -- a link disconnected before it started (cancelled) never ran: no fee
            WHEN 'once' THEN ss.enabled_on BETWEEN %(lookback)s AND %(d)s
                 AND (ss.disabled_on IS NULL OR ss.disabled_on > ss.enabled_on)
            ELSE ss.enabled_on <= %(d)s AND sub.st <= %(d)s
                 AND (ss.disabled_on IS NULL OR ss.disabled_on > %(d)s)
          END
    ORDER BY sub.id, sp.id, ss.enabled_on
),
cand AS (
    SELECT account_id, tariff_id, NULL::bigint AS service_id, 0 AS ord, ps, pe, amount, descr,
           balance, avail, policy, extra, threshold, negbal
    FROM tc
    UNION ALL
    SELECT account_id, NULL::bigint, service_id, 1, ps, pe, amount, descr, balance, avail,
           policy, extra, threshold, negbal
    FROM sc
),
-- No join back to "sub" here: planner estimates of CTE scans are poor, and a join of
-- two of them can turn into a nested loop over the whole batch squared.
due AS (
    SELECT c.*, c.balance - sum(c.amount) OVER (
               PARTITION BY c.account_id ORDER BY c.ord, c.service_id
               ROWS UNBOUNDED PRECEDING) AS balance_after
    FROM cand c
    WHERE c.amount > 0
      AND (c.policy = 0
           OR (c.policy = 1 AND c.avail >= 0)
           OR (c.policy = 2 AND c.avail >= c.amount))
),
ins AS (
    INSERT INTO finance_operation (
        account_id, type, amount, balance_after, op_date, created_at, description, actor,
        external_id, code1c, synced_1c, tariff_id, service_id, period_start, period_end)
    SELECT account_id, 1, -amount, balance_after, %(now)s, %(now)s, descr, %(actor)s,
           '', '', false, tariff_id, service_id, ps, pe
    FROM due
    ORDER BY account_id, ord, service_id
    ON CONFLICT DO NOTHING
    RETURNING 1
),
-- Per account: what the balance becomes when every due row is inserted. Under the lock
-- nothing else inserts charges for these accounts, so all of them are: the caller checks
-- that the count inserted equals the count due and rolls the batch back otherwise.
fin AS (
    SELECT account_id, count(*) AS n, sum(amount) AS total,
           min(balance) - sum(amount) AS new_balance, bool_or(negbal) AS was_neg,
           min(balance) - sum(amount) + min(extra) < min(threshold) AS now_neg
    FROM due
    GROUP BY account_id
),
acc AS (
    UPDATE finance_account a
    SET balance = a.balance - f.total, updated_at = %(now)s
    FROM fin f
    WHERE a.subscriber_id = f.account_id
),
neg AS (
    UPDATE subscribers_subscriber s
    SET negbal = f.now_neg
    FROM fin f
    WHERE s.id = f.account_id AND f.now_neg <> f.was_neg
    RETURNING s.id, f.now_neg AS neg, f.new_balance AS balance
),
-- One audit row per negbal move: this statement's and those of the batch's portable part
-- (posted before it, passed in as arrays), in subscriber id order, as the portable run
-- writes a batch's rows.
aud AS (
    INSERT INTO core_auditentry (
        created_at, actor, action, subscriber_id, object_type, object_id, old, new, message)
    SELECT %(now)s, %(actor)s, CASE WHEN m.neg THEN 'negbal_on' ELSE 'negbal_off' END,
           m.id, 'subscriber', m.id::text, jsonb_build_object('negbal', NOT m.neg),
           jsonb_build_object('negbal', m.neg, 'balance', m.balance), ''
    FROM (
        SELECT id, neg, balance::text AS balance FROM neg
        UNION ALL
        SELECT * FROM unnest(%(a_id)s::bigint[], %(a_neg)s::bool[], %(a_balance)s::text[])
    ) m
    ORDER BY m.id
    RETURNING 1
)
SELECT (SELECT count(*) FROM ins), coalesce(sum(n), 0), coalesce(sum(total), 0),
       (SELECT count(*) FROM aud)
FROM fin
"""


class SqlPlan:
    """The per-day parameters of CHARGE_SQL: each tariff's and service's amount for the
    day, computed once in Python with the same functions the rules use."""

    def __init__(self, *, day: date, options, tariffs: dict, services: dict, actor: str):
        month = Month.of(day)
        self.day = day
        self.base = {
            "d": day,
            "m_first": month.first,
            "m_last": month.last,
            "lookback": day - timedelta(days=options.catchup_days),
            "tz": options.time_zone,
            "default_policy": POLICY_CODES[options.default_policy],
            "charge_admin": options.charge_admin_blocked,
            "actor": actor,
        }
        t_cols = {k: [] for k in ("id", "method", "amount", "q", "r", "cdate", "full", "policy",
                                  "descr", "threshold")}
        for tariff in tariffs.values():
            amount, q, r = _amounts(tariff.charge_method, tariff.fee, day, month)
            t_cols["id"].append(tariff.pk)
            t_cols["method"].append(tariff.charge_method)
            t_cols["amount"].append(amount)
            t_cols["q"].append(q)
            t_cols["r"].append(r)
            t_cols["cdate"].append(month.day(tariff.monthly_charge_day))
            t_cols["full"].append(tariff.partial_month == PartialMonth.FULL)
            t_cols["policy"].append(POLICY_CODES[options.policy_of(tariff)])
            t_cols["descr"].append(describe("fee", tariff.name, tariff.charge_method, day))
            t_cols["threshold"].append(tariff.disconnect_threshold)
        s_cols = {k: [] for k in ("id", "method", "amount", "q", "r", "descr")}
        for service in services.values():
            amount, q, r = _amounts(service.charge_method, service.fee, day, month)
            s_cols["id"].append(service.pk)
            s_cols["method"].append(service.charge_method)
            s_cols["amount"].append(amount)
            s_cols["q"].append(q)
            s_cols["r"].append(r)
            s_cols["descr"].append(describe("fee", service.name, service.charge_method, day))
        self.base.update({f"t_{k}": v for k, v in t_cols.items()})
        self.base.update({f"s_{k}": v for k, v in s_cols.items()})

    def params(self, *, lo: int, hi: int, special: list[int], now: datetime,
               moves=()) -> dict:
        return {
            **self.base, "lo": lo, "hi": hi, "special": special, "now": now,
            "a_id": [m.subscriber_id for m in moves],
            "a_neg": [m.negbal for m in moves],
            "a_balance": [str(m.balance) for m in moves],
        }


def _amounts(method: str, fee: Decimal, day: date, month: Month) -> tuple[Decimal, int, int]:
    q, r = divmod(cents(fee), month.days)
    if method == ChargeMethod.MONTHLY_SPREAD:
        return day_share(fee, day), q, r
    return fee, q, r


def lock_range(lo: int, hi: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute(LOCK_SQL, {"lo": lo, "hi": hi})
        return cursor.fetchone()[0]


class LostCharges(DatabaseError):
    """Fewer rows inserted than due: someone posted charges for a locked account, which
    the locking rules say cannot happen. The batch is rolled back and retried the slow
    way rather than moving balances by rows that are not there."""


def charge_range(plan: SqlPlan, *, lo: int, hi: int, special: list[int], now: datetime,
                 moves=()):
    """Run CHARGE_SQL for ids lo..hi but ``special``; ``moves`` are the negbal moves of
    the batch's portable part, whose audit rows the statement writes among its own.
    Returns (charges, amount charged, audit rows written)."""
    with connection.cursor() as cursor:
        cursor.execute(CHARGE_SQL, plan.params(lo=lo, hi=hi, special=special, now=now,
                                               moves=moves))
        inserted, due, amount, moved = cursor.fetchone()
    if inserted != due:
        raise LostCharges(f"{due} charges due, {inserted} inserted")
    return int(inserted), Decimal(amount or ZERO), int(moved)
