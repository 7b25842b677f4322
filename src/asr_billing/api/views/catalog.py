"""/api/v1/tariffs/, /services/, /nas/: read with ``read``; created and changed through
the tariff and network services with ``admin``."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.response import Response

from asr_billing.api.scopes import ADMIN
from asr_billing.api.serializers import catalog as c
from asr_billing.api.views.base import ModelViewSet
from asr_billing.api.views.subscribers import _created, _valid
from asr_billing.network.models import Nas
from asr_billing.network.services import nas_create, nas_update
from asr_billing.tariffs.models import Service, Tariff
from asr_billing.tariffs.services import (
    service_create,
    service_update,
    tariff_create,
    tariff_update,
)

WRITES = {"create": ADMIN, "partial_update": ADMIN}
METHODS = ("get", "post", "patch", "head", "options")


def _partial(serializer_class, request, instance=None) -> dict:
    serializer = serializer_class(instance, data=request.data, partial=True)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class TariffViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ModelViewSet):
    """Tariffs: fee and charge method, shaping rates (kbit/s), promised payment terms,
    the cabinet's tariff line."""

    queryset = Tariff.objects.all()
    serializer_class = c.TariffSerializer
    filterset_fields = {"is_active": ["exact"], "charge_method": ["exact"],
                        "web_line": ["exact"], "name": ["exact", "icontains"]}
    ordering_fields = ("id", "name")
    required_scopes = WRITES
    http_method_names = METHODS

    @extend_schema(request=c.TariffWriteSerializer, responses={201: c.TariffSerializer})
    def create(self, request):
        data = _valid(c.TariffWriteSerializer, request)
        return _created(self, c.TariffSerializer, tariff_create(actor=self.actor, **data))

    @extend_schema(request=c.TariffWriteSerializer(partial=True),
                   responses={200: c.TariffSerializer})
    def partial_update(self, request, pk=None):
        tariff = self.get_object()
        data = _partial(c.TariffWriteSerializer, request, tariff)
        return Response(c.TariffSerializer(
            tariff_update(tariff=tariff, actor=self.actor, **data)).data)


class ServiceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ModelViewSet):
    """Services a subscriber can have besides the tariff (a static IP, TV packages)."""

    queryset = Service.objects.all()
    serializer_class = c.ServiceSerializer
    filterset_fields = {"is_active": ["exact"], "charge_method": ["exact"],
                        "name": ["exact", "icontains"]}
    ordering_fields = ("id", "name")
    required_scopes = WRITES
    http_method_names = METHODS

    @extend_schema(request=c.ServiceWriteSerializer, responses={201: c.ServiceSerializer})
    def create(self, request):
        data = _valid(c.ServiceWriteSerializer, request)
        return _created(self, c.ServiceSerializer, service_create(actor=self.actor, **data))

    @extend_schema(request=c.ServiceWriteSerializer(partial=True),
                   responses={200: c.ServiceSerializer})
    def partial_update(self, request, pk=None):
        service = self.get_object()
        data = _partial(c.ServiceWriteSerializer, request, service)
        return Response(c.ServiceSerializer(
            service_update(service=service, actor=self.actor, **data)).data)


class NasViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ModelViewSet):
    """NAS (routers, BRAS): the RADIUS secret goes in, never out."""

    queryset = Nas.objects.all()
    serializer_class = c.NasSerializer
    filterset_fields = {"ip": ["exact"], "nas_type": ["exact"]}
    ordering_fields = ("id", "name", "ip")
    required_scopes = WRITES
    http_method_names = METHODS

    @extend_schema(request=c.NasWriteSerializer, responses={201: c.NasSerializer})
    def create(self, request):
        data = _valid(c.NasWriteSerializer, request)
        return _created(self, c.NasSerializer, nas_create(actor=self.actor, **data))

    @extend_schema(request=c.NasWriteSerializer(partial=True), responses={200: c.NasSerializer})
    def partial_update(self, request, pk=None):
        nas = self.get_object()
        data = _partial(c.NasWriteSerializer, request)
        return Response(c.NasSerializer(nas_update(nas=nas, actor=self.actor, **data)).data)
