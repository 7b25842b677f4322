"""Cabinet records for operators: sessions (end them), failed-login counters (unlock),
online payments (confirm what the bank paid, or cancel). Rows change only through the
cabinet services; the lists are read-only."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from asr_billing.cabinet.models import AuthThrottle, CabinetSession, PendingPayment
from asr_billing.cabinet.payments import pending_payment_cancel, pending_payment_confirm
from asr_billing.cabinet.services import cabinet_sessions_end, cabinet_throttles_clear
from asr_billing.core.admin_mixins import ReadOnlyAdminMixin, admin_link, money_html
from asr_billing.core.errors import ApplicationError


@admin.register(CabinetSession)
class CabinetSessionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("login", "subscriber_link", "method", "src_ip", "created_at",
                    "last_seen_at", "closed_at")
    list_select_related = ("login", "subscriber")
    list_filter = ("method", "created_at")
    search_fields = ("=login__login", "=subscriber__contract_number", "=src_ip")
    exclude = ("key_hash",)
    show_full_result_count = False
    actions = ("close_selected",)

    @admin.display(description=_("subscriber"), ordering="subscriber__contract_number")
    def subscriber_link(self, obj):
        return admin_link(obj.subscriber)

    def has_close_permission(self, request):
        return request.user.has_perm("cabinet.change_cabinetsession")

    @admin.action(description=_("End selected sessions"), permissions=["close"])
    def close_selected(self, request, queryset):
        ended = cabinet_sessions_end(session_ids=queryset.values_list("pk", flat=True),
                                     actor=request.user)
        messages.success(request, gettext("Sessions ended: %(n)d.") % {"n": ended})


@admin.register(AuthThrottle)
class AuthThrottleAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("scope", "key", "failures", "window_start", "last_failure_at",
                    "blocked_until")
    list_filter = ("scope",)
    # A pair's key is "<name> <address>": a name or an address alone finds it (a small table).
    search_fields = ("key",)
    actions = ("unlock_selected",)

    def has_unlock_permission(self, request):
        return request.user.has_perm("cabinet.delete_auththrottle")

    @admin.action(description=_("Forget the failures (unlock)"), permissions=["unlock"])
    def unlock_selected(self, request, queryset):
        count = cabinet_throttles_clear(throttle_ids=queryset.values_list("pk", flat=True),
                                        actor=request.user)
        messages.success(request, gettext("Unlocked: %(n)d.") % {"n": count})


@admin.register(PendingPayment)
class PendingPaymentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("pk", "subscriber_link", "amount_html", "operator", "status",
                    "created_at", "finished_at", "bank_reference")
    list_select_related = ("subscriber", "operator")
    list_filter = ("status", "operator", "created_at")
    search_fields = ("=id", "=subscriber__contract_number", "=bank_reference")
    show_full_result_count = False
    actions = ("confirm_selected", "cancel_selected")

    @admin.display(description=_("subscriber"), ordering="subscriber__contract_number")
    def subscriber_link(self, obj):
        return admin_link(obj.subscriber)

    @admin.display(description=_("amount"), ordering="amount")
    def amount_html(self, obj):
        return money_html(obj.amount)

    def has_confirm_permission(self, request):
        return request.user.has_perm("finance.add_operation")

    def _each(self, request, queryset, service, done_text):
        done = 0
        for pending in queryset.order_by("pk"):
            try:
                service(payment_id=pending.pk, actor=request.user)
            except ApplicationError as exc:
                messages.warning(request, f"#{pending.pk}: {exc.message}")
            else:
                done += 1
        if done:
            messages.success(request, done_text % {"n": done})

    @admin.action(description=_("The bank has paid: credit selected payments"),
                  permissions=["confirm"])
    def confirm_selected(self, request, queryset):
        self._each(request, queryset, pending_payment_confirm, gettext("Credited: %(n)d."))

    @admin.action(description=_("Cancel selected payments"), permissions=["confirm"])
    def cancel_selected(self, request, queryset):
        self._each(request, queryset, pending_payment_cancel, gettext("Cancelled: %(n)d."))


# Helpdesk tickets and notifications (admin_helpdesk.py); imported so they register.
from asr_billing.cabinet import admin_helpdesk  # noqa: E402, F401
