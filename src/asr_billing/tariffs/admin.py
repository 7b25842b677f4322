"""Tariffs and services: plain admin (a tariff's assignment to a subscriber is audited by
billing.services.tariff_change_now, called from the subscriber's page)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from asr_billing.tariffs.models import Service, Tariff


@admin.register(Tariff)
class TariffAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "fee",
        "charge_method",
        "disconnect_threshold",
        "rate_in",
        "ceil_in",
        "rate_out",
        "ceil_out",
        "is_active",
        "subscriber_count",
    )
    list_filter = ("is_active", "charge_method")
    search_fields = ("name",)
    fieldsets = (
        (None, {"fields": ("name", "fee", "charge_method", "disconnect_threshold", "is_active")}),
        (
            _("Shaping, incoming"),
            {"fields": ("rate_in", "ceil_in", "burst_in", "cburst_in")},
        ),
        (
            _("Shaping, outgoing"),
            {"fields": ("rate_out", "ceil_out", "burst_out", "cburst_out")},
        ),
        (
            _("Charging"),
            {"fields": ("monthly_charge_day", "partial_month", "negative_policy",
                        "voluntary_block_fee")},
        ),
        (
            _("Promised payment"),
            {"fields": ("promised_amount", "promised_days", "promised_max_per_month",
                        "promised_only_when_cut_off")},
        ),
        (None, {"fields": ("comments",)}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(subscriber_total=Count("subscribers"))

    @admin.display(description=_("subscribers"), ordering="subscriber_total")
    def subscriber_count(self, obj):
        return obj.subscriber_total


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "fee",
        "charge_method",
        "is_active",
        "is_show_web",
        "web_allow_enable",
        "web_allow_disable",
    )
    list_filter = ("is_active", "charge_method", "is_show_web")
    search_fields = ("name",)
