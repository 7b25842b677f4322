"""The REST v2 money models: accounts, the ledger, and the ledger seen as balance history.

- ``FinanceOperations.op_summa`` is positive, as in Carbon where ``op_type_id`` gives the
  direction (1 charge, 2 payment); ``balance_change`` (ours) carries the sign.
  ``storno`` is 1 for an operation that was reversed and for the reversal itself, so
  ``storno: 0`` lists what really happened.
- ``ArchAccountStack`` is Carbon's balance history; the NetSpace client (reference §5,
  C-NETSP) filters it on ``abonent_id``, ``change_balance_time__range`` and ``storno``.
  Every ledger row is one change of the balance, so it reads the same rows with the
  balance before and after each change.
"""

from __future__ import annotations

from django.db.models import BooleanField, Case, Exists, OuterRef, Q, Value, When
from django.db.models.functions import Abs

from asr_billing.rest_v2 import methods
from asr_billing.rest_v2.registry import Field, ModelSpec, Relation, register

register(ModelSpec(
    name="AdminAccounts",
    model="finance.Account",
    doc="Accounts: one per subscriber, sharing its id.",
    fields=(
        Field("id", "int", "pk", "Primary key; equals the subscriber's id."),
        Field("account_id_abonents", "int", "subscriber_id", "Id of the subscriber."),
        Field("abonent_id", "int", "subscriber_id", "Id of the subscriber."),
        Field("balance", "decimal", "balance", "Balance, roubles (read-only: see add_payment)."),
        Field("credit", "decimal", "credit_limit", writer="credit", nullable=False,
              doc="Credit limit: how far below zero before the cut-off."),
        Field("promised_amount", "decimal", "promised_amount",
              "Active promised payments, roubles (ours)."),
        Field("update_date", "datetime", "updated_at", "Last change (ours)."),
    ),
    relations=(Relation("abonent", "Abonents", "subscriber", doc="The subscriber."),),
    order=("pk",),
    writers={"credit": methods.write_credit},
))


def _reversed_exists():
    from asr_billing.finance.models import Operation

    return Exists(Operation.objects.filter(reverses=OuterRef("pk")))


def _storno_alias():
    return Case(
        When(Q(type=21) | Q(_reversed_exists()), then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    )


STORNO = Field("storno", "flag", value=lambda o: o.type == 21 or o.is_reversed,
               select=("reversed_by",), alias=_storno_alias,
               doc="1: reversed, or the reversal itself. storno: 0 lists what stands.")


register(ModelSpec(
    name="FinanceOperations",
    model="finance.Operation",
    doc="The ledger: payments, charges, corrections and reversals. Newest first.",
    fields=(
        Field("id", "int", "pk", "Primary key."),
        Field("op_id", "int", "pk", "Operation id (same as id)."),
        Field("abonent_id", "int", "account_id", "Id of the subscriber."),
        Field("account_id", "int", "account_id", "Id of the account (equals abonent_id)."),
        Field("op_date", "datetime", "op_date", "When the operation happened."),
        Field("op_summa", "decimal", value=lambda o: abs(o.amount), alias=lambda: Abs("amount"),
              doc="Amount, always positive; op_type_id gives the direction."),
        Field("balance_change", "decimal", "amount",
              "Signed change of the balance: + payment, − charge (ours)."),
        Field("balance_after", "decimal", "balance_after", "Balance after it (ours)."),
        Field("op_type_id", "int", "type",
              "1 charge (act), 2 payment, 11 agent invoice, 20 correction, 21 reversal."),
        STORNO,
        Field("storno_op_id", "int", "reverses_id", "For a reversal: the operation it cancels."),
        Field("descr", "str", "description", "Description."),
        Field("operator_pay_id", "int", "pay_operator_id", "Payment operator id."),
        Field("operator_name", "str", "pay_operator__code", "Payment operator code."),
        Field("operator_pay_id_str", "str", "external_id", "The operator's payment id."),
        Field("code1c", "str", "code1c", "1C document code."),
        Field("sync1c", "flag", "synced_1c", "1 when synced with 1C."),
        Field("tarif_id", "int", "tariff_id", "Charges: the tariff."),
        Field("usluga_id", "int", "service_id", "Charges: the service."),
        Field("period_start", "date", "period_start", "Charges: first day paid for (ours)."),
        Field("period_end", "date", "period_end", "Charges: last day paid for (ours)."),
        Field("create_date", "datetime", "created_at", "When it was posted."),
    ),
    relations=(
        Relation("abonent", "Abonents", "account__subscriber", doc="The subscriber."),
        Relation("account", "AdminAccounts", "account", doc="The account."),
        Relation("tarif", "Tarif", "tariff", doc="Charges: the tariff."),
        Relation("usluga", "Usluga", "service", doc="Charges: the service."),
    ),
    order=("-op_date", "-pk"),
))


register(ModelSpec(
    name="ArchAccountStack",
    model="finance.Operation",
    doc="Balance history: one row per change of a subscriber's balance. Newest first.",
    fields=(
        Field("id", "int", "pk", "Primary key; the same row in FinanceOperations."),
        Field("abonent_id", "int", "account_id", "Id of the subscriber."),
        Field("account_id", "int", "account_id", "Id of the account (equals abonent_id)."),
        Field("change_balance_time", "datetime", "op_date", "When the balance changed."),
        Field("balance", "decimal", "balance_after", "The balance after the change."),
        Field("balance_before", "decimal", value=lambda o: o.balance_after - o.amount,
              doc="The balance before the change (ours)."),
        Field("balance_change", "decimal", "amount",
              "Signed change: + payment, − charge (ours)."),
        Field("op_id", "int", "pk", "The FinanceOperations row of the change (ours)."),
        Field("op_type_id", "int", "type",
              "1 charge (act), 2 payment, 11 agent invoice, 20 correction, 21 reversal."),
        STORNO,
        Field("descr", "str", "description", "Description."),
    ),
    relations=(
        Relation("abonent", "Abonents", "account__subscriber", doc="The subscriber."),
        Relation("account", "AdminAccounts", "account", doc="The account."),
    ),
    order=("-op_date", "-pk"),
))
