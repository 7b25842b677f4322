"""Groups, subscribers, logins (a password goes in, never out), subscriptions."""

from __future__ import annotations

from rest_framework import serializers

from asr_billing.api.serializers.common import Money
from asr_billing.network.models import Login
from asr_billing.subscribers.models import Group, Subscriber, SubscriberService


class GroupSerializer(serializers.ModelSerializer):
    class Meta:
        model = Group
        fields = ("id", "name", "parent", "comments")


class GroupWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    parent = serializers.PrimaryKeyRelatedField(queryset=Group.objects.all(), required=False,
                                                allow_null=True)
    comments = serializers.CharField(required=False, allow_blank=True)


class SubscriberSerializer(serializers.ModelSerializer):
    email = serializers.CharField(read_only=True, help_text="E-mail address; empty if none")
    balance = Money(source="account.balance", read_only=True)
    credit_limit = Money(source="account.credit_limit", read_only=True)
    promised_amount = Money(source="account.promised_amount", read_only=True)

    class Meta:
        model = Subscriber
        fields = (
            "id", "contract_number", "name", "group", "is_company", "email", "sms_phone",
            "phone", "address", "apartment", "code1c", "tariff", "tariff_next",
            "tariff_next_date", "admin_blocked", "admin_block_reason", "voluntary_blocked",
            "negbal", "connected_on", "created_at", "comments", "balance", "credit_limit",
            "promised_amount",
        )
        read_only_fields = fields


class SubscriberCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255)
    group = serializers.PrimaryKeyRelatedField(queryset=Group.objects.all())
    contract_number = serializers.CharField(max_length=32, required=False, allow_blank=True,
                                            help_text="Generated when left out")
    tariff = serializers.PrimaryKeyRelatedField(
        queryset=Subscriber._meta.get_field("tariff").related_model.objects.filter(
            is_active=True), required=False, allow_null=True)
    is_company = serializers.BooleanField(required=False, default=False)
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    sms_phone = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    address = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    code1c = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    credit_limit = Money(required=False, min_value=0, default="0.00")
    connected_on = serializers.DateField(required=False, allow_null=True, default=None)


class SubscriberUpdateSerializer(serializers.Serializer):
    """PATCH: the descriptive data; fields left out stay as they are."""

    name = serializers.CharField(max_length=255, required=False)
    group = serializers.PrimaryKeyRelatedField(queryset=Group.objects.all(), required=False)
    is_company = serializers.BooleanField(required=False)
    connected_on = serializers.DateField(required=False, allow_null=True)
    address = serializers.CharField(max_length=500, required=False, allow_blank=True)
    comments = serializers.CharField(required=False, allow_blank=True)


class BlockSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class CreditSerializer(serializers.Serializer):
    credit_limit = Money(min_value=0)


class TariffScheduleSerializer(serializers.Serializer):
    """A tariff change from a day (``tariff`` null cancels the scheduled one)."""

    tariff = serializers.PrimaryKeyRelatedField(
        queryset=Subscriber._meta.get_field("tariff").related_model.objects.all(),
        allow_null=True)
    on = serializers.DateField(required=False, allow_null=True, default=None)


class LoginSerializer(serializers.ModelSerializer):
    class Meta:
        model = Login
        fields = ("id", "subscriber", "login", "enabled", "ip", "mac", "snat_ip", "nas",
                  "created_at", "comments")
        read_only_fields = fields


class LoginCreateSerializer(serializers.Serializer):
    subscriber = serializers.PrimaryKeyRelatedField(queryset=Subscriber.objects.all())
    login = serializers.CharField(max_length=64)
    password = serializers.CharField(write_only=True, max_length=128,
                                     style={"input_type": "password"})
    enabled = serializers.BooleanField(required=False, default=True)
    ip = serializers.IPAddressField(required=False, allow_null=True, default=None)
    mac = serializers.CharField(max_length=17, required=False, allow_blank=True, default="")
    snat_ip = serializers.IPAddressField(required=False, allow_null=True, default=None)
    nas = serializers.PrimaryKeyRelatedField(
        queryset=Login._meta.get_field("nas").related_model.objects.all(), required=False,
        allow_null=True, default=None)


class LoginUpdateSerializer(serializers.Serializer):
    """PATCH: fields left out stay; ``password`` sets a new one (never returned)."""

    password = serializers.CharField(write_only=True, max_length=128, required=False)
    enabled = serializers.BooleanField(required=False)
    ip = serializers.IPAddressField(required=False, allow_null=True)
    mac = serializers.CharField(max_length=17, required=False, allow_blank=True)
    snat_ip = serializers.IPAddressField(required=False, allow_null=True)
    nas = serializers.PrimaryKeyRelatedField(
        queryset=Login._meta.get_field("nas").related_model.objects.all(), required=False,
        allow_null=True)


class SubscriptionCreateSerializer(serializers.Serializer):
    subscriber = serializers.PrimaryKeyRelatedField(queryset=Subscriber.objects.all())
    service = serializers.PrimaryKeyRelatedField(
        queryset=SubscriberService._meta.get_field("service").related_model.objects.all())
    on = serializers.DateField(required=False, allow_null=True, default=None,
                               help_text="The first day (default: today)")


class SubscriptionEndSerializer(serializers.Serializer):
    on = serializers.DateField(required=False, allow_null=True, default=None,
                               help_text="The last day it runs (default: today)")


class SubscriptionSerializer(serializers.ModelSerializer):
    class Meta:
        model = SubscriberService
        fields = ("id", "subscriber", "service", "enabled_on", "disabled_on", "created_at",
                  "comment")
        read_only_fields = fields
