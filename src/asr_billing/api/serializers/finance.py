"""Accounts, the ledger's operations (payments and charges are operations), payments in."""

from __future__ import annotations

from rest_framework import serializers

from asr_billing.api.serializers.common import Money, PositiveMoney
from asr_billing.finance.models import Account, Operation, OperationType

# Stable machine names of OperationType (its labels are translated texts).
TYPE_NAMES = {
    OperationType.CHARGE: "charge",
    OperationType.PAYMENT: "payment",
    OperationType.AGENT_INVOICE: "agent_invoice",
    OperationType.CORRECTION: "correction",
    OperationType.REVERSAL: "reversal",
}
TYPE_BY_NAME = {name: value for value, name in TYPE_NAMES.items()}


class OperationTypeField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=list(TYPE_BY_NAME), **kwargs)

    def to_representation(self, value):
        return TYPE_NAMES.get(value, str(value))


class AccountSerializer(serializers.ModelSerializer):
    """One account per subscriber (its id is the subscriber's). Sign: a negative balance
    is a debt."""

    id = serializers.IntegerField(source="subscriber_id", read_only=True)
    contract_number = serializers.CharField(source="subscriber.contract_number", read_only=True)
    balance = Money(read_only=True)
    credit_limit = Money(read_only=True)
    promised_amount = Money(read_only=True)

    class Meta:
        model = Account
        fields = ("id", "subscriber", "contract_number", "balance", "credit_limit",
                  "promised_amount", "updated_at")
        read_only_fields = fields


class OperationSerializer(serializers.ModelSerializer):
    """``amount`` is the change of the balance: positive for a payment, negative for a
    charge; ``balance_after`` the balance once it was posted."""

    subscriber = serializers.IntegerField(source="account_id", read_only=True)
    type = OperationTypeField(read_only=True)
    type_id = serializers.IntegerField(source="type", read_only=True,
                                       help_text="Carbon's type id (1 charge, 2 payment, 11 "
                                                 "agent invoice; 20 correction, 21 reversal)")
    amount = Money(read_only=True)
    balance_after = Money(read_only=True)
    operator = serializers.CharField(source="pay_operator.code", read_only=True, default=None,
                                     allow_null=True, help_text="Payment operator code")
    reverses = serializers.IntegerField(source="reverses_id", read_only=True, allow_null=True,
                                        help_text="The operation this one reverses")
    reversed_by = serializers.SerializerMethodField()

    class Meta:
        model = Operation
        fields = ("id", "subscriber", "type", "type_id", "amount", "balance_after", "op_date",
                  "created_at", "description", "actor", "operator", "external_id", "code1c",
                  "tariff", "service", "period_start", "period_end", "reverses", "reversed_by")
        read_only_fields = fields

    def get_reversed_by(self, operation) -> int | None:
        reversal = getattr(operation, "reversed_by", None)
        return reversal.pk if reversal is not None else None


class PaymentCreateSerializer(serializers.Serializer):
    """A payment, exactly once per (operator, external_id)."""

    subscriber = serializers.CharField(
        max_length=64, help_text="The subscriber's contract number, login or IP address")
    amount = PositiveMoney()
    operator = serializers.CharField(max_length=64, help_text="Payment operator code")
    external_id = serializers.CharField(
        max_length=100, help_text="The operator's id of the payment: a retry with it is "
                                  "recognised and not posted twice")
    op_date = serializers.DateTimeField(required=False, allow_null=True, default=None)
    description = serializers.CharField(required=False, allow_blank=True, default="",
                                        max_length=1000)


class ReverseSerializer(serializers.Serializer):
    description = serializers.CharField(required=False, allow_blank=True, default="",
                                        max_length=1000)
