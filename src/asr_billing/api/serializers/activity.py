"""Sessions, billing runs, promised payments, voluntary blocks, tariff changes, audit,
tickets and notifications."""

from __future__ import annotations

from rest_framework import serializers

from asr_billing.api.serializers.common import Money
from asr_billing.billing.models import BillingRun, PromisedPayment, TariffChange, VoluntaryBlock
from asr_billing.cabinet.models_helpdesk import Notification, Ticket, TicketMessage
from asr_billing.core.models import AuditEntry
from asr_billing.network.models import OnlineSession


class SessionSerializer(serializers.ModelSerializer):
    """A RADIUS session; open while ``stopped_at`` is null. Octets as the NAS counted them
    (input: from the subscriber)."""

    access = serializers.CharField(
        read_only=True, help_text="What authorize gave: f full service, n the no money "
                                  "profile; empty for a session not authorized by us")

    class Meta:
        model = OnlineSession
        fields = ("id", "login", "nas", "acct_session_id", "acct_unique_id", "ip",
                  "calling_station_id", "nas_port_id", "access", "started_at", "updated_at",
                  "stopped_at", "terminate_cause", "input_octets", "output_octets")
        read_only_fields = fields


class BillingRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = BillingRun
        exclude = ("host", "pid")
        read_only_fields = [f.name for f in BillingRun._meta.concrete_fields]


class BillingRunStartSerializer(serializers.Serializer):
    date = serializers.DateField(required=False, allow_null=True, default=None,
                                 help_text="Charge everything due up to this day (default "
                                           "today in app['time_zone'])")


class PromisedPaymentSerializer(serializers.ModelSerializer):
    amount = Money(read_only=True)

    class Meta:
        model = PromisedPayment
        fields = ("id", "subscriber", "amount", "created_at", "expires_at", "closed_at", "actor")
        read_only_fields = fields


class PromisedPaymentCreateSerializer(serializers.Serializer):
    subscriber = serializers.IntegerField()
    amount = Money(required=False, allow_null=True, default=None, min_value=0,
                   help_text="Default: the tariff's terms, else billing['promised.amount']")
    days = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1,
                                    max_value=365)


class VoluntaryBlockSerializer(serializers.ModelSerializer):
    class Meta:
        model = VoluntaryBlock
        fields = ("id", "subscriber", "start_date", "end_date", "created_at", "ended_at",
                  "actor", "cost_operation")
        read_only_fields = fields


class VoluntaryBlockCreateSerializer(serializers.Serializer):
    subscriber = serializers.IntegerField()
    start_date = serializers.DateField()
    end_date = serializers.DateField()


class TariffChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = TariffChange
        fields = ("id", "subscriber", "effective_date", "old_tariff", "new_tariff", "scheduled",
                  "created_at", "actor")
        read_only_fields = fields


class AuditEntrySerializer(serializers.ModelSerializer):
    actor_user = serializers.CharField(source="actor_user.username", read_only=True,
                                       default=None, allow_null=True,
                                       help_text="The operator's user name; null for a "
                                                 "service (api:…, billing, cabinet)")

    class Meta:
        model = AuditEntry
        fields = ("id", "created_at", "actor", "actor_user", "action", "subscriber",
                  "object_type", "object_id", "old", "new", "message")
        read_only_fields = fields


class TicketMessageSerializer(serializers.ModelSerializer):
    class Meta:
        model = TicketMessage
        fields = ("id", "author", "text", "created_at", "read_at")
        read_only_fields = fields


class TicketSerializer(serializers.ModelSerializer):
    messages = TicketMessageSerializer(many=True, read_only=True)

    class Meta:
        model = Ticket
        fields = ("id", "subscriber", "subject", "text", "status", "created_at", "updated_at",
                  "closed_at", "messages")
        read_only_fields = fields


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ("id", "text", "type", "audience", "subscriber", "group", "starts_at",
                  "ends_at", "created_at", "created_by")
        read_only_fields = fields
