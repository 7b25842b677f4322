"""Promised payments and voluntary blocks: read-only lists (the billing services and the
cabinet create and close them; the admin shows their history). A voluntary block can be
lifted early with an action that calls billing.services.voluntary_block_end."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from asr_billing.billing.models import PromisedPayment, VoluntaryBlock
from asr_billing.billing.services import voluntary_block_end
from asr_billing.core.admin_mixins import ReadOnlyAdminMixin, admin_link, money_html
from asr_billing.core.errors import ApplicationError


class PromisedActiveFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "active"

    def lookups(self, request, model_admin):
        return (("yes", _("Active")), ("no", _("Closed")))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(closed_at__isnull=True)
        if self.value() == "no":
            return queryset.filter(closed_at__isnull=False)
        return queryset


@admin.register(PromisedPayment)
class PromisedPaymentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("subscriber_link", "amount_html", "created_at", "expires_at", "closed_at",
                    "actor")
    list_select_related = ("subscriber",)
    list_filter = (PromisedActiveFilter, "created_at", "expires_at")
    search_fields = ("=subscriber__contract_number", "subscriber__name")
    show_full_result_count = False

    @admin.display(description=_("subscriber"), ordering="subscriber__contract_number")
    def subscriber_link(self, obj):
        return admin_link(obj.subscriber)

    @admin.display(description=_("amount"), ordering="amount")
    def amount_html(self, obj):
        return money_html(obj.amount)


class VoluntaryBlockStateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "period"

    def lookups(self, request, model_admin):
        return (("current", _("In force today")), ("future", _("Planned")),
                ("past", _("Finished")))

    def queryset(self, request, queryset):
        today = timezone.localdate()
        running = Q(start_date__lte=today, end_date__gte=today, ended_at__isnull=True)
        if self.value() == "current":
            return queryset.filter(running)
        if self.value() == "future":
            return queryset.filter(start_date__gt=today, ended_at__isnull=True)
        if self.value() == "past":
            return queryset.filter(Q(end_date__lt=today) | Q(ended_at__isnull=False))
        return queryset


@admin.register(VoluntaryBlock)
class VoluntaryBlockAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("subscriber_link", "start_date", "end_date", "ended_at", "cost", "actor",
                    "created_at")
    list_select_related = ("subscriber",)
    list_filter = (VoluntaryBlockStateFilter, "start_date")
    search_fields = ("=subscriber__contract_number", "subscriber__name")
    show_full_result_count = False

    @admin.display(description=_("subscriber"), ordering="subscriber__contract_number")
    def subscriber_link(self, obj):
        return admin_link(obj.subscriber)

    actions = ("end_selected",)

    def has_end_permission(self, request):
        # The rows stay read-only; lifting a block is a service call (audited).
        return request.user.has_perm("billing.change_voluntaryblock")

    @admin.action(description=_("Lift selected voluntary blocks now"), permissions=["end"])
    def end_selected(self, request, queryset):
        done = 0
        for block in queryset.order_by("pk"):
            try:
                voluntary_block_end(block=block, actor=request.user)
            except ApplicationError as exc:
                messages.warning(request, f"{block.subscriber.contract_number}: {exc.message}")
            else:
                done += 1
        if done:
            messages.success(request, gettext("Lifted: %(n)d.") % {"n": done})
