"""/api/v1/sessions/, /billing-runs/ (start one), /promised-payments/, /voluntary-blocks/,
/tariff-changes/, /audit/ (admin only), /tickets/, /notifications/."""

from __future__ import annotations

from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status
from rest_framework.response import Response

from asr_billing.api.scopes import ADMIN, BILLING
from asr_billing.api.serializers import activity as a
from asr_billing.api.views.base import ModelViewSet, ReadOnlyViewSet
from asr_billing.api.views.subscribers import _valid
from asr_billing.billing.models import BillingRun, PromisedPayment, TariffChange, VoluntaryBlock
from asr_billing.billing.services import promised_payment_take, voluntary_block_create
from asr_billing.cabinet.models_helpdesk import Notification, Ticket
from asr_billing.core.models import AuditEntry
from asr_billing.core.tasks import task_enqueue
from asr_billing.network.models import OnlineSession
from asr_billing.subscribers.models import Subscriber

DATE_RANGE = ["gte", "lte"]


class SessionViewSet(ReadOnlyViewSet):
    queryset = OnlineSession.objects.all()
    serializer_class = a.SessionSerializer
    filterset_fields = {"login": ["exact"], "nas": ["exact"], "stopped_at": ["isnull", *DATE_RANGE],
                        "started_at": DATE_RANGE, "ip": ["exact"], "acct_unique_id": ["exact"]}
    ordering_fields = ("id", "started_at")


class BillingRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ModelViewSet):
    replica_lists = False  # money: from the primary, never a lagging copy
    queryset = BillingRun.objects.all()
    serializer_class = a.BillingRunSerializer
    filterset_fields = {"status": ["exact"], "date": ["exact", *DATE_RANGE]}
    ordering_fields = ("id", "started_at", "date")
    required_scopes = {"create": BILLING}
    http_method_names = ("get", "post", "head", "options")

    @extend_schema(
        request=a.BillingRunStartSerializer,
        responses={202: inline_serializer("BillingRunQueued", {
            "status": serializers.CharField(), "date": serializers.DateField(allow_null=True)})},
    )
    def create(self, request):
        """Start a charging run in the background (the scheduler's worker runs it): 202, and
        the run appears in this list. A second run for the same day charges nothing twice."""
        from asr_billing.api import tasks

        data = _valid(a.BillingRunStartSerializer, request)
        day = data["date"]
        if day is not None and day > timezone.localdate():
            raise serializers.ValidationError({"date": ["the run date is in the future"]})
        with transaction.atomic():
            task_enqueue(
                name=tasks.BILLING_RUN,
                key=f"api:billing_run:{timezone.now().isoformat()}:{request.auth.pk}",
                payload={"date": day.isoformat() if day else None, "actor": self.actor},
                max_attempts=1,
            )
        return Response({"status": "queued", "date": day}, status=status.HTTP_202_ACCEPTED)


class PromisedPaymentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ModelViewSet):
    replica_lists = False  # money: from the primary, never a lagging copy
    queryset = PromisedPayment.objects.all()
    serializer_class = a.PromisedPaymentSerializer
    filterset_fields = {"subscriber": ["exact"], "closed_at": ["isnull"],
                        "created_at": DATE_RANGE}
    ordering_fields = ("id", "created_at")
    required_scopes = {"create": BILLING}
    http_method_names = ("get", "post", "head", "options")

    @extend_schema(request=a.PromisedPaymentCreateSerializer,
                   responses={201: a.PromisedPaymentSerializer})
    def create(self, request):
        """Give a promised payment on the tariff's terms (Carbon's refusal texts)."""
        data = _valid(a.PromisedPaymentCreateSerializer, request)
        subscriber = get_object_or_404(Subscriber, pk=data["subscriber"])
        promised = promised_payment_take(subscriber=subscriber, actor=self.actor,
                                         amount=data["amount"], days=data["days"])
        return Response(a.PromisedPaymentSerializer(promised).data,
                        status=status.HTTP_201_CREATED)


class VoluntaryBlockViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ModelViewSet):
    queryset = VoluntaryBlock.objects.all()
    serializer_class = a.VoluntaryBlockSerializer
    filterset_fields = {"subscriber": ["exact"], "ended_at": ["isnull"],
                        "start_date": DATE_RANGE}
    ordering_fields = ("id", "start_date")
    required_scopes = {"create": BILLING}
    http_method_names = ("get", "post", "head", "options")

    @extend_schema(request=a.VoluntaryBlockCreateSerializer,
                   responses={201: a.VoluntaryBlockSerializer})
    def create(self, request):
        data = _valid(a.VoluntaryBlockCreateSerializer, request)
        subscriber = get_object_or_404(Subscriber, pk=data["subscriber"])
        block = voluntary_block_create(subscriber=subscriber, start_date=data["start_date"],
                                       end_date=data["end_date"], actor=self.actor)
        return Response(a.VoluntaryBlockSerializer(block).data, status=status.HTTP_201_CREATED)


class TariffChangeViewSet(ReadOnlyViewSet):
    queryset = TariffChange.objects.all()
    serializer_class = a.TariffChangeSerializer
    filterset_fields = {"subscriber": ["exact"], "effective_date": DATE_RANGE}
    ordering_fields = ("id", "effective_date")


class AuditViewSet(ReadOnlyViewSet):
    queryset = AuditEntry.objects.select_related("actor_user")
    serializer_class = a.AuditEntrySerializer
    filterset_fields = {"subscriber": ["exact"], "action": ["exact"],
                        "object_type": ["exact"], "object_id": ["exact"],
                        "created_at": DATE_RANGE}
    ordering_fields = ("id", "created_at")
    required_scopes = {"read": ADMIN}


class TicketViewSet(ReadOnlyViewSet):
    queryset = Ticket.objects.prefetch_related("messages")
    serializer_class = a.TicketSerializer
    filterset_fields = {"subscriber": ["exact"], "status": ["exact"], "updated_at": DATE_RANGE}
    ordering_fields = ("id", "updated_at", "created_at")


class NotificationViewSet(ReadOnlyViewSet):
    queryset = Notification.objects.all()
    serializer_class = a.NotificationSerializer
    filterset_fields = {"subscriber": ["exact"], "group": ["exact"], "audience": ["exact"],
                        "starts_at": DATE_RANGE}
    ordering_fields = ("id", "starts_at")
