"""/api/v1/tariffs/, /services/, /nas/ (read)."""

from __future__ import annotations

from asr_billing.api.serializers import catalog as c
from asr_billing.api.views.base import ReadOnlyViewSet
from asr_billing.network.models import Nas
from asr_billing.tariffs.models import Service, Tariff


class TariffViewSet(ReadOnlyViewSet):
    queryset = Tariff.objects.all()
    serializer_class = c.TariffSerializer
    filterset_fields = {"is_active": ["exact"], "charge_method": ["exact"],
                        "web_line": ["exact"], "name": ["exact", "icontains"]}
    ordering_fields = ("id", "name")


class ServiceViewSet(ReadOnlyViewSet):
    queryset = Service.objects.all()
    serializer_class = c.ServiceSerializer
    filterset_fields = {"is_active": ["exact"], "charge_method": ["exact"],
                        "name": ["exact", "icontains"]}
    ordering_fields = ("id", "name")


class NasViewSet(ReadOnlyViewSet):
    queryset = Nas.objects.all()
    serializer_class = c.NasSerializer
    filterset_fields = {"ip": ["exact"], "nas_type": ["exact"]}
    ordering_fields = ("id", "name", "ip")
