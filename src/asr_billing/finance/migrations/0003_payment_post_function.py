"""finance_payment_post(): the payment intake's posting as one PostgreSQL function call.

A payment through a terminal is the hot path of DESIGN.md §5. Called in autocommit mode
the function is the whole transaction: one round trip instead of seven (BEGIN, lookup,
lock, insert, balance, state, COMMIT). Each statement inside takes a fresh snapshot
(READ COMMITTED), so the negbal recompute after the account lock sees what a transaction
we waited for committed — the same guarantee as the statements run one by one.
finance/posting.py calls it and documents the outcomes; SQLite has a portable twin there.
Any later change to the tables it writes must replace it here (CREATE OR REPLACE) in a
new migration: tests/finance/test_payment_lean.py compares its rows with the ORM's.
"""

from django.db import migrations

CREATE = r"""
CREATE OR REPLACE FUNCTION finance_payment_post(
    p_subscriber_id bigint,  -- NULL: find the subscriber by p_key
    p_key text,              -- a contract number, else a login
    p_key_ip inet,           -- p_key as a login's IP (NULL when it is no IP)
    p_operator_id bigint,    -- NULL: find the operator by p_operator_code
    p_operator_code text,    -- NULL with p_operator_id NULL: no operator
    p_amount numeric,        -- > 0, roubles, 2 places (checked by the caller)
    p_op_date timestamptz,
    p_now timestamptz,
    p_description text,
    p_user_id bigint,
    p_actor text,
    p_external_id text,
    p_code1c text,
    p_too_large numeric,     -- the first balance the column cannot hold
    OUT o_status text,       -- posted | exists | unknown_operator | disabled_operator
                             -- | no_subscriber | no_account | too_large
    OUT o_operation_id bigint,
    OUT o_balance_after numeric,
    OUT o_subscriber_id bigint,
    OUT o_contract_number text,
    OUT o_operator_id bigint
) LANGUAGE plpgsql AS $$
DECLARE
    v_enabled boolean;
    v_balance numeric;
    v_negbal boolean;
    v_want boolean;
BEGIN
    o_operator_id := p_operator_id;
    IF o_operator_id IS NULL AND p_operator_code IS NOT NULL THEN
        SELECT o.id, o.enabled INTO o_operator_id, v_enabled
        FROM finance_paymentoperator o WHERE o.code = p_operator_code;
        IF NOT FOUND THEN
            o_status := 'unknown_operator';
            RETURN;
        END IF;
        IF NOT v_enabled THEN
            o_status := 'disabled_operator';
            RETURN;
        END IF;
    END IF;

    -- The subscriber as subscribers.selectors.subscriber_find finds one.
    o_subscriber_id := p_subscriber_id;
    IF o_subscriber_id IS NULL THEN
        SELECT s.id, s.contract_number INTO o_subscriber_id, o_contract_number
        FROM subscribers_subscriber s WHERE s.contract_number = p_key;
        IF NOT FOUND THEN
            SELECT s.id, s.contract_number INTO o_subscriber_id, o_contract_number
            FROM network_login l JOIN subscribers_subscriber s ON s.id = l.subscriber_id
            WHERE l.login = p_key;
        END IF;
        IF NOT FOUND AND p_key_ip IS NOT NULL THEN
            SELECT s.id, s.contract_number INTO o_subscriber_id, o_contract_number
            FROM network_login l JOIN subscribers_subscriber s ON s.id = l.subscriber_id
            WHERE l.ip = p_key_ip AND l.enabled;
        END IF;
        IF NOT FOUND THEN
            o_subscriber_id := NULL;
            o_status := 'no_subscriber';
            RETURN;
        END IF;
    END IF;

    -- Lock before posting: a lock that had to wait returns the row as its holder left it.
    SELECT a.balance INTO v_balance FROM finance_account a
    WHERE a.subscriber_id = o_subscriber_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        o_status := 'no_account';
        RETURN;
    END IF;
    IF abs(v_balance + p_amount) >= p_too_large THEN
        o_status := 'too_large';
        RETURN;
    END IF;

    -- Exactly once: a unique index that holds this payment (operator + external id) or
    -- its 1C code makes the insert do nothing; the caller finds the original.
    INSERT INTO finance_operation AS op (account_id, type, amount, balance_after, op_date,
        created_at, description, created_by_id, actor, pay_operator_id, external_id, code1c,
        synced_1c)
    VALUES (o_subscriber_id, 2, p_amount, v_balance + p_amount, p_op_date, p_now,
        p_description, p_user_id, p_actor, o_operator_id, p_external_id, p_code1c,
        p_code1c <> '')
    ON CONFLICT DO NOTHING
    RETURNING op.id, op.balance_after INTO o_operation_id, o_balance_after;
    IF o_operation_id IS NULL THEN
        o_status := 'exists';
        RETURN;
    END IF;

    UPDATE finance_account SET balance = o_balance_after, updated_at = p_now
    WHERE finance_account.subscriber_id = o_subscriber_id;
    INSERT INTO core_auditentry (created_at, actor_user_id, actor, action, subscriber_id,
        object_type, object_id, old, new, message)
    VALUES (p_now, p_user_id, p_actor, 'payment', o_subscriber_id, 'operation',
        o_operation_id::text, NULL,
        jsonb_build_object('amount', p_amount::text, 'operator', p_operator_code,
            'external_id', p_external_id, 'balance', o_balance_after::text), '');

    -- negbal <=> balance + credit + promised < the tariff's disconnect threshold
    -- (finance/state.py); a change is written and audited.
    SELECT s.negbal,
        a.balance + a.credit_limit + a.promised_amount < coalesce(t.disconnect_threshold, 0)
    INTO v_negbal, v_want
    FROM subscribers_subscriber s
    JOIN finance_account a ON a.subscriber_id = s.id
    LEFT JOIN tariffs_tariff t ON t.id = s.tariff_id
    WHERE s.id = o_subscriber_id;
    IF v_negbal <> v_want THEN
        UPDATE subscribers_subscriber SET negbal = v_want WHERE id = o_subscriber_id;
        INSERT INTO core_auditentry (created_at, actor_user_id, actor, action,
            subscriber_id, object_type, object_id, old, new, message)
        VALUES (p_now, p_user_id, p_actor,
            CASE WHEN v_want THEN 'negbal_on' ELSE 'negbal_off' END, o_subscriber_id,
            'subscriber', o_subscriber_id::text, jsonb_build_object('negbal', v_negbal),
            jsonb_build_object('negbal', v_want, 'balance', o_balance_after::text), '');
    END IF;
    o_status := 'posted';
END
$$;
"""

DROP = "DROP FUNCTION IF EXISTS finance_payment_post"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("finance", "0002_operation_partial_indexes_charge_key"),
        ("core", "0001_initial"),
        ("network", "0001_initial"),
        ("subscribers", "0001_initial"),
        ("tariffs", "0001_initial"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
