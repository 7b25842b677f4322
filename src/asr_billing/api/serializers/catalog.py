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


class TariffWriteSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tariff
        exclude = ("id",)


class ServiceWriteSerializer(serializers.ModelSerializer):
    class Meta:
        model = Service
        exclude = ("id",)


class NasWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    ip = serializers.IPAddressField()
    nas_type = serializers.ChoiceField(choices=Nas._meta.get_field("nas_type").choices,
                                       required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    radius_secret = serializers.CharField(required=False, allow_blank=True, write_only=True,
                                          max_length=128, help_text="Never returned")
    coa_port = serializers.IntegerField(required=False, min_value=1, max_value=65535)
    ipoe_match = serializers.ChoiceField(choices=("ip", "mac"), required=False)
