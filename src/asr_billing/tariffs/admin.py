"""Tariffs and services, saved through tariffs.services (validated, audited; a new
disconnect threshold applies to the tariff's subscribers at once). A tariff's assignment
to a subscriber is billing.services.tariff_change_now, called from the subscriber's page."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from asr_billing.core.admin_mixins import ServiceFormAdminMixin, adopt_instance, service_call
from asr_billing.tariffs.models import Service, Tariff
from asr_billing.tariffs.services import (
    service_create,
    service_update,
    tariff_create,
    tariff_update,
)


class AuditedSaveMixin(ServiceFormAdminMixin):
    """Saves through a create and an update service; a refusal comes back as a form error.
    ``services`` = (create, update, the update's keyword for the object)."""

    services: tuple = ()

    def save_model(self, request, obj, form, change):
        create, update, key = self.services
        data = form.cleaned_data
        if change:
            fields = {name: data[name] for name in form.changed_data if name in data}
            service_call(update, **{key: obj}, actor=request.user, **fields)
        else:
            fields = {name: data[name] for name in form.fields if name in data}
            adopt_instance(obj, service_call(create, actor=request.user, **fields))


@admin.register(Tariff)
class TariffAdmin(AuditedSaveMixin, admin.ModelAdmin):
    services = (tariff_create, tariff_update, "tariff")
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
        (_("Cabinet"), {"fields": ("web_line", "web_change_in_debt")}),
        (None, {"fields": ("comments",)}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(subscriber_total=Count("subscribers"))

    @admin.display(description=_("subscribers"), ordering="subscriber_total")
    def subscriber_count(self, obj):
        return obj.subscriber_total


@admin.register(Service)
class ServiceAdmin(AuditedSaveMixin, admin.ModelAdmin):
    services = (service_create, service_update, "service")
    list_display = (
        "name",
        "fee",
        "charge_method",
        "is_active",
        "is_show_web",
        "web_allow_enable",
        "web_allow_disable",
        "channel_count",
    )
    list_filter = ("is_active", "charge_method", "is_show_web")
    search_fields = ("name",)

    @admin.display(description=_("TV channels"))
    def channel_count(self, obj):
        """How many channels the IPTV package has (empty: not a package)."""
        return len(obj.channel_list) or ""
