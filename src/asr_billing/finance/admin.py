"""The ledger, accounts and payment operators in the admin.

The ledger is append-only: no add, change or delete here, not even for a superuser. A
mistake is undone with the "Reverse" action (finance.services.operation_reverse), which
appends a reversal row. Payments and corrections are posted from the subscriber's page.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import OuterRef, Q, Subquery
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from asr_billing.core.admin_mixins import ReadOnlyAdminMixin, admin_link, money_html
from asr_billing.core.errors import ApplicationError
from asr_billing.finance.admin_views import can_post_correction
from asr_billing.finance.models import Account, Operation, OperationType, PaymentOperator
from asr_billing.finance.services import operation_reverse
from asr_billing.subscribers.models import Subscriber


@admin.register(Operation)
class OperationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "op_date",
        "subscriber_link",
        "type",
        "amount_html",
        "balance_after_html",
        "pay_operator",
        "external_id",
        "reversal_state",
        "who",
    )
    list_display_links = ("id", "op_date")
    list_select_related = ("account__subscriber", "pay_operator", "created_by")
    list_filter = ("type", "pay_operator", "op_date", "synced_1c")
    search_fields = ("account__subscriber__contract_number", "external_id", "code1c")
    search_help_text = _("Exact contract number, external payment id, 1C code or operation "
                         "number.")
    show_full_result_count = False  # the ledger grows without bound
    list_per_page = 100
    actions = ("reverse_selected",)
    fields = (
        "id",
        "subscriber_link",
        "type",
        "amount",
        "balance_after",
        "op_date",
        "created_at",
        "description",
        "who",
        "pay_operator",
        "external_id",
        "code1c",
        "synced_1c",
        "reverses_link",
        "reversal_state",
        "tariff",
        "service",
        "period_start",
        "period_end",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        reversal = Operation.objects.filter(reverses=OuterRef("pk")).values("pk")[:1]
        return super().get_queryset(request).annotate(reversal_id=Subquery(reversal))

    def get_search_results(self, request, queryset, search_term):
        """Exact matches only: a substring search over the whole ledger scans every row."""
        term = search_term.strip()
        if not term:
            return queryset, False
        match = (
            Q(account_id__in=Subscriber.objects.filter(contract_number=term).values("pk"))
            | Q(external_id=term)
            | Q(code1c=term)
        )
        number = term.lstrip("#")
        if number.isdigit() and len(number) < 19:
            match |= Q(pk=int(number))
        return queryset.filter(match), False

    @admin.display(description=_("subscriber"), ordering="account__subscriber__contract_number")
    def subscriber_link(self, obj):
        return admin_link(obj.account.subscriber)

    @admin.display(description=_("amount"), ordering="amount")
    def amount_html(self, obj):
        return money_html(obj.amount)

    @admin.display(description=_("balance after"))
    def balance_after_html(self, obj):
        return money_html(obj.balance_after)

    @admin.display(description=_("operator"), ordering="actor")
    def who(self, obj):
        return obj.created_by.get_username() if obj.created_by_id else obj.actor

    @admin.display(description=_("reverses"))
    def reverses_link(self, obj):
        return admin_link(obj.reverses) if obj.reverses_id else "—"

    @admin.display(description=_("reversal"))
    def reversal_state(self, obj):
        if obj.type == OperationType.REVERSAL:
            return gettext("reversal of #%(id)s") % {"id": obj.reverses_id}
        reversal_id = getattr(obj, "reversal_id", None)
        if reversal_id:
            return gettext("reversed by #%(id)s") % {"id": reversal_id}
        return "—"

    def has_reverse_permission(self, request):
        # A reversal changes a balance by hand, as a correction does (not a cashier's).
        return can_post_correction(request)

    @admin.action(description=_("Reverse selected operations"), permissions=["reverse"])
    def reverse_selected(self, request, queryset):
        done = 0
        for operation in queryset.order_by("pk"):
            try:
                reversal = operation_reverse(operation=operation, actor=request.user)
            except ApplicationError as exc:
                messages.error(request, f"#{operation.pk}: {exc.message}")
            else:
                done += 1
                messages.success(
                    request,
                    gettext("Operation #%(id)s reversed by #%(rev)s.")
                    % {"id": operation.pk, "rev": reversal.pk},
                )
        if not done:
            messages.warning(request, gettext("Nothing was reversed."))


@admin.register(Account)
class AccountAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("subscriber", "balance_html", "credit_limit", "promised_amount", "updated_at")
    list_select_related = ("subscriber",)
    search_fields = ("=subscriber__contract_number", "subscriber__name")
    show_full_result_count = False
    fields = ("subscriber_link", "balance", "credit_limit", "promised_amount", "updated_at")
    readonly_fields = fields

    @admin.display(description=_("balance"), ordering="balance")
    def balance_html(self, obj):
        return money_html(obj.balance)

    @admin.display(description=_("subscriber"))
    def subscriber_link(self, obj):
        return admin_link(obj.subscriber)


@admin.register(PaymentOperator)
class PaymentOperatorAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "enabled")
    list_filter = ("enabled",)
    search_fields = ("code", "name")


# Registry reconciliations register themselves (their own module: upload, reports, posting).
from asr_billing.finance import admin_reconcile  # noqa: E402, F401
