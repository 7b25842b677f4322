"""Billing runs, tariff changes and recalculations in the admin: read-only history.

A separate module from billing/admin.py (the admin helper's), imported by
BillingConfig.ready(). Runs are started by `asr-billing bill run` or the scheduler,
never from here; a run's counters and error rows say what it did.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from asr_billing.billing.models import BillingRun, BillingRunError, Recalculation, TariffChange
from asr_billing.core.admin_mixins import (
    ReadOnlyAdminMixin,
    ReadOnlyInline,
    admin_link,
    money_html,
)


class BillingRunErrorInline(ReadOnlyInline):
    model = BillingRunError
    fields = ("subscriber_link", "day", "stage", "message", "created_at")
    readonly_fields = fields

    @admin.display(description=_("subscriber"))
    def subscriber_link(self, obj):
        return admin_link(obj.subscriber) if obj.subscriber_id else "—"


@admin.register(BillingRun)
class BillingRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "date",
        "first_date",
        "status",
        "started_at",
        "finished_at",
        "subscribers_seen",
        "charges_made",
        "amount_html",
        "errors",
        "host",
    )
    list_filter = ("status", "date")
    date_hierarchy = "started_at"
    show_full_result_count = False
    inlines = (BillingRunErrorInline,)
    fields = (
        "date",
        "first_date",
        "status",
        "started_at",
        "heartbeat_at",
        "finished_at",
        "subscribers_seen",
        "charges_made",
        "amount",
        "errors",
        "fallback_batches",
        "host",
        "pid",
        "actor",
        "message",
    )

    @admin.display(description=_("amount charged"), ordering="amount")
    def amount_html(self, obj):
        return money_html(obj.amount)


@admin.register(TariffChange)
class TariffChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("subscriber_link", "effective_date", "old_tariff", "new_tariff", "scheduled",
                    "actor", "created_at")
    list_select_related = ("subscriber", "old_tariff", "new_tariff")
    list_filter = ("scheduled", "effective_date")
    search_fields = ("=subscriber__contract_number", "subscriber__name")
    show_full_result_count = False

    @admin.display(description=_("subscriber"), ordering="subscriber__contract_number")
    def subscriber_link(self, obj):
        return admin_link(obj.subscriber)


@admin.register(Recalculation)
class RecalculationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "charge_link", "refund_link", "first_day", "last_day", "created_at")
    list_select_related = ("charge", "refund")
    show_full_result_count = False

    @admin.display(description=_("charge"))
    def charge_link(self, obj):
        return admin_link(obj.charge)

    @admin.display(description=_("refund"))
    def refund_link(self, obj):
        return admin_link(obj.refund)
