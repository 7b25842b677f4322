"""Tariffs and services: plain admin (a tariff's assignment to a subscriber is audited by
subscribers.services.subscriber_tariff_set, called from the subscriber's page)."""

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
