"""/api/v1/accounts/, /operations/ (reverse as an action), /payments/ (create), /charges/."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from asr_billing.api.scopes import BILLING, PAYMENTS
from asr_billing.api.serializers import finance as f
from asr_billing.api.views.base import ModelViewSet, ReadOnlyViewSet
from asr_billing.api.views.subscribers import _valid
from asr_billing.finance.models import Account, Operation, OperationType
from asr_billing.finance.services import operation_reverse, payment_register

DATE_RANGE = ["gte", "lte"]
OPERATION_FILTERS = {
    "account": ["exact"], "type": ["exact", "in"], "op_date": DATE_RANGE,
    "created_at": DATE_RANGE, "external_id": ["exact"], "pay_operator__code": ["exact"],
    "code1c": ["exact"],
}


def _operations():
    return Operation.objects.select_related("pay_operator", "reversed_by")


class AccountViewSet(ReadOnlyViewSet):
    replica_lists = False  # money: from the primary, never a lagging copy
    queryset = Account.objects.select_related("subscriber")
    serializer_class = f.AccountSerializer
    filterset_fields = {"subscriber": ["exact"], "balance": ["lt", "gte"]}
    ordering_fields = ("subscriber", "balance", "updated_at")
    ordering = ("subscriber",)
    lookup_field = "subscriber"
    lookup_url_kwarg = "pk"


class OperationViewSet(ReadOnlyViewSet):
    """The ledger, append-only: nothing is edited; a mistake is reversed."""

    replica_lists = False  # money: from the primary, never a lagging copy
    queryset = _operations()
    serializer_class = f.OperationSerializer
    filterset_fields = OPERATION_FILTERS
    ordering_fields = ("id", "op_date", "created_at")
    required_scopes = {"reverse": BILLING}

    @extend_schema(request=f.ReverseSerializer, responses={201: f.OperationSerializer})
    @action(detail=True, methods=["post"])
    def reverse(self, request, pk=None):
        """Cancel the operation with a reversal of the opposite amount (once)."""
        operation = self.get_object()
        data = _valid(f.ReverseSerializer, request)
        reversal = operation_reverse(operation=operation, actor=self.actor,
                                     description=data["description"])
        return Response(f.OperationSerializer(_operations().get(pk=reversal.pk)).data,
                        status=status.HTTP_201_CREATED)


class PaymentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ModelViewSet):
    """Payments (operations of type payment). A payment is registered exactly once per
    (operator, external_id): a retry answers 200 with the payment made the first time."""

    replica_lists = False  # money: from the primary, never a lagging copy
    queryset = _operations().filter(type=OperationType.PAYMENT)
    serializer_class = f.OperationSerializer
    filterset_fields = {k: v for k, v in OPERATION_FILTERS.items() if k != "type"}
    ordering_fields = ("id", "op_date", "created_at")
    required_scopes = {"create": PAYMENTS}
    http_method_names = ("get", "post", "head", "options")

    @extend_schema(request=f.PaymentCreateSerializer,
                   responses={201: f.OperationSerializer, 200: f.OperationSerializer})
    def create(self, request):
        data = _valid(f.PaymentCreateSerializer, request)
        result = payment_register(
            subscriber=data["subscriber"], amount=data["amount"], actor=self.actor,
            operator=data["operator"], external_id=data["external_id"],
            op_date=data["op_date"], description=data["description"],
        )
        operation = _operations().get(pk=result.operation.pk)
        body = f.OperationSerializer(operation).data
        if not result.created:
            return Response(body, status=status.HTTP_200_OK)
        location = request.build_absolute_uri(f"{request.path.rstrip('/')}/{operation.pk}/")
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": location})


class ChargeViewSet(ReadOnlyViewSet):
    replica_lists = False  # money: from the primary, never a lagging copy
    queryset = _operations().filter(type=OperationType.CHARGE)
    serializer_class = f.OperationSerializer
    filterset_fields = {**{k: v for k, v in OPERATION_FILTERS.items() if k != "type"},
                        "tariff": ["exact"], "service": ["exact"], "period_start": DATE_RANGE}
    ordering_fields = ("id", "op_date", "created_at")
