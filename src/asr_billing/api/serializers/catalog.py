"""Tariffs, services and NAS (the NAS's RADIUS secret never leaves)."""

from __future__ import annotations

from rest_framework import serializers

from asr_billing.network.models import Nas
from asr_billing.tariffs.models import Service, Tariff


class TariffSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tariff
        fields = "__all__"
        read_only_fields = [f.name for f in Tariff._meta.concrete_fields]


class ServiceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Service
        fields = "__all__"
        read_only_fields = [f.name for f in Service._meta.concrete_fields]


class NasSerializer(serializers.ModelSerializer):
    class Meta:
        model = Nas
        exclude = ("radius_secret_enc",)
        read_only_fields = [f.name for f in Nas._meta.concrete_fields]
