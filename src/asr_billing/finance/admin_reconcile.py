"""Registry reconciliations in the admin: upload a registry, read the stored reports
(read-only, with their lines), and post a report's missing payments (a new report).

Uploading needs the permission to add reconciliations; posting also the permission to
post money (finance.add_operation). Both call finance/reconcile.py, the same code the
``asr-billing payments reconcile`` command runs; a refusal is shown on the form and
nothing is stored.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from asr_billing.core.admin_mixins import ReadOnlyAdminMixin, ReadOnlyInline, admin_link
from asr_billing.core.errors import ApplicationError
from asr_billing.finance.admin_views import can_post_money
from asr_billing.finance.models_reconcile import Category, Reconciliation, ReconciliationLine
from asr_billing.finance.reconcile import (
    MAX_REGISTRY_BYTES,
    reconciliation_post_missing,
    registry_reconcile,
)
from asr_billing.finance.reconcile_config import reconcilable_gateways, registry_source
from asr_billing.finance.reconcile_registry import FORMATS

UPLOAD_PERMISSION = "finance.add_reconciliation"


def can_upload(request) -> bool:
    return request.user.has_perm(UPLOAD_PERMISSION)


def can_post_missing(request) -> bool:
    return can_upload(request) and can_post_money(request)


class RegistryUploadForm(forms.Form):
    gateway = forms.ChoiceField(
        label=capfirst(gettext_lazy("gateway")),
        help_text=gettext_lazy("The instance the registry is from: payments['<type>.<name>.*'] "
                               "in cfg/config with a payment operator."),
    )
    file = forms.FileField(label=capfirst(gettext_lazy("registry file")))
    format = forms.ChoiceField(
        label=capfirst(gettext_lazy("registry format")),
        required=False,
        choices=[("", gettext_lazy("as the gateway's settings say")),
                 *[(name, name) for name in FORMATS]],
    )
    date = forms.DateField(
        label=capfirst(gettext_lazy("registry date")),
        required=False,
        help_text=gettext_lazy("Only for a registry without payments, or to compare one day "
                               "of a longer one (YYYY-MM-DD)."),
    )
    post_missing = forms.BooleanField(
        label=gettext_lazy("Post the payments the billing is missing"),
        required=False,
        help_text=gettext_lazy("Each one once, under the gateway's payment operator with the "
                               "registry's transaction id."),
    )

    def __init__(self, *args, may_post: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["gateway"].choices = [(name, name) for name in reconcilable_gateways()]
        if not may_post:
            del self.fields["post_missing"]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_REGISTRY_BYTES:
            raise forms.ValidationError(
                _("The registry is larger than %(mb)s MB") % {"mb": MAX_REGISTRY_BYTES // 2**20}
            )
        return upload


class ReconciliationLineInline(ReadOnlyInline):
    model = ReconciliationLine
    fields = (
        "category", "resolved", "line_no", "txn_id", "account", "registry_amount", "fee",
        "paid_at", "operation_link", "billing_amount", "contract_number", "posted", "message",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        # The lines that differ first, then the registry's order.
        return super().get_queryset(request).select_related("operation").order_by(
            "resolved", "id")

    @admin.display(description=gettext_lazy("operation"))
    def operation_link(self, obj):
        return admin_link(obj.operation) if obj.operation_id else "—"


@admin.register(Reconciliation)
class ReconciliationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "id", "created_at", "gateway", "operator", "date_from", "file_name", "registry_count",
        "registry_amount", "matched_count", "posted_count", "unresolved_count", "agrees",
        "who",
    )
    list_display_links = ("id", "created_at")
    list_select_related = ("operator", "created_by")
    list_filter = ("gateway", "operator", "date_from")
    search_fields = ("=file_sha256", "file_name")
    date_hierarchy = "created_at"
    show_full_result_count = False
    inlines = (ReconciliationLineInline,)
    fields = (
        "gateway", "operator", "registry_format", "date_from", "date_to", "file_name",
        "file_sha256", "registry_count", "registry_amount", "registry_fee", "billing_count",
        "billing_amount", "matched_count", "missing_in_billing_count",
        "missing_in_registry_count", "mismatched_count", "reversed_count", "post_missing",
        "posted_count", "posted_amount", "unresolved_count", "created_at", "who",
    )
    readonly_fields = fields

    @admin.display(description=gettext_lazy("everything matches"), boolean=True)
    def agrees(self, obj):
        return not obj.differs

    @admin.display(description=gettext_lazy("run by"), ordering="actor")
    def who(self, obj):
        return obj.created_by.get_username() if obj.created_by_id else obj.actor

    def get_urls(self):
        wrap = self.admin_site.admin_view
        prefix = f"{self.opts.app_label}_{self.opts.model_name}_"
        return [
            path("upload/", wrap(self.upload_view), name=prefix + "upload"),
            path("<int:object_id>/post-missing/", wrap(self.post_missing_view),
                 name=prefix + "post_missing"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_upload": can_upload(request)}
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_post_missing": can_post_missing(request) and ReconciliationLine.objects.filter(
                reconciliation_id=object_id, category=Category.MISSING_IN_BILLING,
                resolved=False,
            ).exists(),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def _report_url(self, report) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change",
                       args=[report.pk])

    def _stored(self, request, report) -> HttpResponseRedirect:
        if report.differs:
            count = report.unresolved_count
            messages.warning(
                request,
                ngettext("Reconciliation #%(id)s stored: %(count)s line differs.",
                         "Reconciliation #%(id)s stored: %(count)s lines differ.", count)
                % {"id": report.pk, "count": count},
            )
        else:
            messages.success(
                request,
                _("Reconciliation #%(id)s stored: everything matches.") % {"id": report.pk},
            )
        return HttpResponseRedirect(self._report_url(report))

    def upload_view(self, request):
        if not (self.has_view_permission(request) and can_upload(request)):
            raise PermissionDenied
        may_post = can_post_money(request)
        form = RegistryUploadForm(request.POST or None, request.FILES or None,
                                  may_post=may_post)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            upload = data["file"]
            try:
                report = registry_reconcile(
                    source=registry_source(data["gateway"]),
                    data=upload.read(),
                    file_name=upload.name,
                    actor=request.user,
                    post_missing=may_post and data.get("post_missing", False),
                    fmt=data["format"] or None,
                    day=data["date"],
                )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                return self._stored(request, report)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "form": form,
            "title": _("Reconcile a registry"),
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/finance/reconciliation_upload.html", context)

    def post_missing_view(self, request, object_id: int):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not (self.has_view_permission(request) and can_post_missing(request)):
            raise PermissionDenied
        report = get_object_or_404(Reconciliation, pk=object_id)
        try:
            source = registry_source(report.gateway)
            again = reconciliation_post_missing(
                reconciliation=report, account_kind=source.account_kind, actor=request.user
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(self._report_url(report))
        return self._stored(request, again)
