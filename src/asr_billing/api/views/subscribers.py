"""/api/v1/groups/, /subscribers/, /logins/, /subscriptions/: reads through querysets,
writes through the subscriber and network services."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from asr_billing.api.scopes import BILLING, SUBSCRIBERS_WRITE
from asr_billing.api.serializers import subscribers as s
from asr_billing.api.views.base import ModelViewSet
from asr_billing.network.models import Login
from asr_billing.network.services import login_create, login_set_password, login_update
from asr_billing.subscribers.models import Group, Subscriber, SubscriberService
from asr_billing.subscribers.services import (
    subscriber_block,
    subscriber_create,
    subscriber_credit_set,
    subscriber_tariff_schedule,
    subscriber_unblock,
    subscriber_update,
)
from asr_billing.subscribers.services_groups import group_create, group_update
from asr_billing.subscribers.services_uslugi import (
    subscriber_service_connect,
    subscriber_service_disconnect,
)

DATE_RANGE = ["exact", "gte", "lte"]


def _created(view, serializer_class, instance) -> Response:
    data = serializer_class(instance, context=view.get_serializer_context()).data
    location = view.request.build_absolute_uri(f"{view.request.path.rstrip('/')}/{instance.pk}/")
    return Response(data, status=status.HTTP_201_CREATED, headers={"Location": location})


class GroupViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ModelViewSet):
    """Groups of subscribers, a folder tree (``parent`` null: at the top)."""

    queryset = Group.objects.all()
    serializer_class = s.GroupSerializer
    filterset_fields = {"parent": ["exact", "isnull"], "name": ["exact", "icontains"]}
    ordering_fields = ("id", "name")
    required_scopes = {"create": SUBSCRIBERS_WRITE, "partial_update": SUBSCRIBERS_WRITE}
    http_method_names = ("get", "post", "patch", "head", "options")

    @extend_schema(request=s.GroupWriteSerializer, responses={201: s.GroupSerializer})
    def create(self, request):
        data = _valid(s.GroupWriteSerializer, request)
        return _created(self, s.GroupSerializer, group_create(actor=self.actor, **data))

    @extend_schema(request=s.GroupWriteSerializer(partial=True),
                   responses={200: s.GroupSerializer})
    def partial_update(self, request, pk=None):
        group = self.get_object()
        serializer = s.GroupWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        group = group_update(group=group, actor=self.actor, **serializer.validated_data)
        return Response(s.GroupSerializer(group).data)


class SubscriberViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ModelViewSet):
    replica_lists = False  # money: from the primary, never a lagging copy
    queryset = Subscriber.objects.select_related("account")
    serializer_class = s.SubscriberSerializer
    filterset_fields = {
        "group": ["exact"], "tariff": ["exact", "isnull"], "contract_number": ["exact"],
        "code1c": ["exact"], "name": ["exact", "icontains"], "negbal": ["exact"],
        "admin_blocked": ["exact"], "voluntary_blocked": ["exact"], "is_company": ["exact"],
        "created_at": DATE_RANGE, "connected_on": DATE_RANGE,
    }
    ordering_fields = ("id", "name", "contract_number", "created_at")
    required_scopes = {"create": SUBSCRIBERS_WRITE, "partial_update": SUBSCRIBERS_WRITE,
                       "block": SUBSCRIBERS_WRITE, "unblock": SUBSCRIBERS_WRITE,
                       "credit": BILLING, "tariff": BILLING}
    http_method_names = ("get", "post", "patch", "head", "options")

    @extend_schema(request=s.SubscriberCreateSerializer, responses={201: s.SubscriberSerializer})
    def create(self, request):
        data = _valid(s.SubscriberCreateSerializer, request)
        subscriber = subscriber_create(actor=self.actor, **data)
        return _created(self, s.SubscriberSerializer, self._fresh(subscriber.pk))

    @extend_schema(request=s.SubscriberUpdateSerializer, responses={200: s.SubscriberSerializer})
    def partial_update(self, request, pk=None):
        subscriber = self.get_object()
        data = _valid(s.SubscriberUpdateSerializer, request)
        subscriber_update(subscriber=subscriber, actor=self.actor, **data)
        return Response(s.SubscriberSerializer(self._fresh(subscriber.pk)).data)

    @extend_schema(request=s.BlockSerializer, responses={200: s.SubscriberSerializer})
    @action(detail=True, methods=["post"])
    def block(self, request, pk=None):
        """Block by the administrator (the collector's blocked list; RADIUS refuses)."""
        subscriber = self.get_object()
        data = _valid(s.BlockSerializer, request)
        subscriber_block(subscriber=subscriber, actor=self.actor, reason=data["reason"])
        return Response(s.SubscriberSerializer(self._fresh(subscriber.pk)).data)

    @extend_schema(request=None, responses={200: s.SubscriberSerializer})
    @action(detail=True, methods=["post"])
    def unblock(self, request, pk=None):
        subscriber = self.get_object()
        subscriber_unblock(subscriber=subscriber, actor=self.actor)
        return Response(s.SubscriberSerializer(self._fresh(subscriber.pk)).data)

    @extend_schema(request=s.CreditSerializer, responses={200: s.SubscriberSerializer})
    @action(detail=True, methods=["post"])
    def credit(self, request, pk=None):
        """Set the credit limit (roubles the balance may go below zero)."""
        subscriber = self.get_object()
        data = _valid(s.CreditSerializer, request)
        subscriber_credit_set(subscriber=subscriber, credit_limit=data["credit_limit"],
                              actor=self.actor)
        return Response(s.SubscriberSerializer(self._fresh(subscriber.pk)).data)

    @extend_schema(request=s.TariffScheduleSerializer, responses={200: s.SubscriberSerializer})
    @action(detail=True, methods=["post"])
    def tariff(self, request, pk=None):
        """Schedule a tariff change from a day (null tariff: cancel the scheduled one)."""
        subscriber = self.get_object()
        data = _valid(s.TariffScheduleSerializer, request)
        subscriber_tariff_schedule(subscriber=subscriber, tariff=data["tariff"], on=data["on"],
                                   actor=self.actor)
        return Response(s.SubscriberSerializer(self._fresh(subscriber.pk)).data)

    def _fresh(self, pk: int) -> Subscriber:
        return Subscriber.objects.select_related("account").get(pk=pk)


class LoginViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ModelViewSet):
    queryset = Login.objects.all()
    serializer_class = s.LoginSerializer
    filterset_fields = {"subscriber": ["exact"], "login": ["exact"], "ip": ["exact"],
                        "mac": ["exact"], "nas": ["exact", "isnull"], "enabled": ["exact"]}
    ordering_fields = ("id", "login", "created_at")
    required_scopes = {"create": SUBSCRIBERS_WRITE, "partial_update": SUBSCRIBERS_WRITE}
    http_method_names = ("get", "post", "patch", "head", "options")

    @extend_schema(request=s.LoginCreateSerializer, responses={201: s.LoginSerializer})
    def create(self, request):
        data = _valid(s.LoginCreateSerializer, request)
        login = login_create(actor=self.actor, **data)
        return _created(self, s.LoginSerializer, login)

    @extend_schema(request=s.LoginUpdateSerializer, responses={200: s.LoginSerializer})
    def partial_update(self, request, pk=None):
        from django.db import transaction

        login = self.get_object()
        data = _valid(s.LoginUpdateSerializer, request)
        password = data.pop("password", None)
        with transaction.atomic():  # a refused address keeps the old password too
            if data:
                login = login_update(login=login, actor=self.actor, **data)
            if password is not None:
                login_set_password(login=login, password=password, actor=self.actor)
        return Response(s.LoginSerializer(Login.objects.get(pk=login.pk)).data)


class SubscriptionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ModelViewSet):
    """Services connected to subscribers (open while ``disabled_on`` is null); the billing
    run charges them."""

    queryset = SubscriberService.objects.all()
    serializer_class = s.SubscriptionSerializer
    filterset_fields = {"subscriber": ["exact"], "service": ["exact"],
                        "disabled_on": ["isnull", "gte", "lte"], "enabled_on": DATE_RANGE}
    ordering_fields = ("id", "enabled_on")
    required_scopes = {"create": SUBSCRIBERS_WRITE, "disconnect": SUBSCRIBERS_WRITE}
    http_method_names = ("get", "post", "head", "options")

    @extend_schema(request=s.SubscriptionCreateSerializer,
                   responses={201: s.SubscriptionSerializer})
    def create(self, request):
        """Connect a service from a day (default today)."""
        data = _valid(s.SubscriptionCreateSerializer, request)
        link = subscriber_service_connect(subscriber=data["subscriber"],
                                          service=data["service"], on=data["on"],
                                          actor=self.actor)
        return _created(self, s.SubscriptionSerializer, link)

    @extend_schema(request=s.SubscriptionEndSerializer, responses={200: s.SubscriptionSerializer})
    @action(detail=True, methods=["post"])
    def disconnect(self, request, pk=None):
        """Disconnect: it runs to the end of the day ``on`` and stops from the next one."""
        link = self.get_object()
        data = _valid(s.SubscriptionEndSerializer, request)
        subscriber_service_disconnect(link=link, on=data["on"], actor=self.actor)
        return Response(s.SubscriptionSerializer(SubscriberService.objects.get(pk=link.pk)).data)


def _valid(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
