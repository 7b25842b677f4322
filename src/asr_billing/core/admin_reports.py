"""The admin's report pages (issue 14): a filter form, a table, an SVG chart and a CSV
download per report. The figures come from core/reports.py; this module only reads the
form, draws and writes.

CSV files are for Russian Excel and LibreOffice: UTF-8 with a byte-order mark (Excel
takes BOM-less UTF-8 for its ANSI code page), ``;`` between fields (Excel's list
separator in Russian locales, where the comma is the decimal separator), amounts with no
thousands separator and the page language's decimal separator (``754,88`` in Russian,
``754.88`` in English), dates as ISO ``YYYY-MM-DD`` (months ``YYYY-MM``). They stream:
the debtors' rows are read from the database in chunks, never all at once.
"""

from __future__ import annotations

import csv
from datetime import date

from django import forms
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from asr_billing.core import reports
from asr_billing.core.admin_mixins import money_text
from asr_billing.core.svg_chart import bar_chart

# The longest ranges a report is drawn for: a day per bar beyond a year is unreadable.
MAX_DAYS = {reports.DAY: 366, reports.MONTH: 366 * 10}
DEBTORS_PER_PAGE = 50
CSV_CHUNK = 2000
ISO = ("%Y-%m-%d",)


class _Echo:
    """A file-like object whose write() returns the line: csv.writer into a stream."""

    def write(self, value):
        return value


def csv_response(filename: str, header: list[str], rows) -> StreamingHttpResponse:
    writer = csv.writer(_Echo(), delimiter=";", lineterminator="\r\n")

    def lines():
        yield "\ufeff" + writer.writerow(header)
        for row in rows:
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def csv_amount_writer():
    """A function writing amounts for a spreadsheet: no thousands separator, the decimal
    mark of the request's language. Taken while the request runs: a streamed body is
    written after the language of the request has been switched off."""
    comma = (get_language() or "ru").startswith("ru")

    def amount(value) -> str:
        text = f"{value:.2f}"
        return text.replace(".", ",") if comma else text

    return amount


def bad_request(form) -> HttpResponse:
    """A CSV asked for with bad filters: 400 and the form's messages as plain text."""
    lines = [str(message) for messages in form.errors.values() for message in messages]
    return HttpResponse("\n".join(lines) + "\n", status=400,
                        content_type="text/plain; charset=utf-8")


def _group_field():
    from asr_billing.subscribers.models import Group

    return forms.ModelChoiceField(Group.objects.order_by("name"), required=False,
                                  label=gettext_lazy("group"),
                                  empty_label=gettext_lazy("all groups"))


class PaymentsForm(forms.Form):
    date_from = forms.DateField(label=gettext_lazy("from"), input_formats=ISO)
    date_to = forms.DateField(label=gettext_lazy("to"), input_formats=ISO)
    grouping = forms.ChoiceField(label=gettext_lazy("by"), choices=[
        (reports.DAY, gettext_lazy("day")), (reports.MONTH, gettext_lazy("month"))])
    operator = forms.ModelChoiceField(None, required=False,
                                      label=gettext_lazy("payment operator"),
                                      empty_label=gettext_lazy("all operators"))

    def __init__(self, *args, **kwargs):
        from asr_billing.finance.models import PaymentOperator

        super().__init__(*args, **kwargs)
        self.fields["group"] = _group_field()
        self.fields["operator"].queryset = PaymentOperator.objects.order_by("code")

    def clean(self):
        data = super().clean()
        start, end, grouping = data.get("date_from"), data.get("date_to"), data.get("grouping")
        if start and end:
            if start > end:
                raise forms.ValidationError(_("The start date is after the end date."))
            if grouping in MAX_DAYS and (end - start).days + 1 > MAX_DAYS[grouping]:
                raise forms.ValidationError(
                    _("The range is too long: at most %(days)d days by day, ten years by "
                      "month.") % {"days": MAX_DAYS[reports.DAY]})
        return data


class DebtorsForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"] = _group_field()


def _check(request, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied


def _render(request, template: str, context: dict):
    from django.contrib import admin

    return TemplateResponse(request, template, {**admin.site.each_context(request),
                                                **context})


def _period_text(period: date, grouping: str) -> str:
    return period.isoformat() if grouping == reports.DAY else period.strftime("%Y-%m")


def payments_view(request):
    _check(request, "finance.view_operation")
    today = timezone.localdate()
    data = request.GET if "date_from" in request.GET else {
        "date_from": today.replace(day=1).isoformat(), "date_to": today.isoformat(),
        "grouping": reports.DAY}
    form = PaymentsForm(data)
    valid = form.is_valid()
    if request.GET.get("format") == "csv":
        if not valid:
            return bad_request(form)
        return payments_csv(form.cleaned_data)
    report = chart = None
    if valid:
        report = reports.payments_report(**form.cleaned_data)
        labels = [_period_text(row.period, report.grouping) for row in report.rows]
        series = [(column.code or _("no operator"), [row.cells[n].amount for row in report.rows])
                  for n, column in enumerate(report.operators)]
        chart = bar_chart(labels, series, title=_("Payments"), value_text=money_text)
    return _render(request, "admin/asr_reports/payments.html", {
        "title": _("Payments by operator"), "form": form, "report": report, "chart": chart,
        "csv_query": _csv_query(request, data)})


def payments_csv(filters: dict) -> StreamingHttpResponse:
    grouping = filters["grouping"]
    csv_amount = csv_amount_writer()

    def rows():
        for row in reports.payment_rows(**filters):
            yield [_period_text(row["period"], grouping), row["code"], row["name"],
                   row["count"], csv_amount(row["amount"])]

    header = [_("period"), _("operator code"), _("payment operator"), _("count"),
              _("amount")]
    name = f"payments-{filters['date_from']:%Y%m%d}-{filters['date_to']:%Y%m%d}.csv"
    return csv_response(name, header, rows())


def debtors_view(request):
    _check(request, "subscribers.view_subscriber")
    form = DebtorsForm(request.GET)
    valid = form.is_valid()
    if request.GET.get("format") == "csv":
        if not valid:
            return bad_request(form)
        return debtors_csv(form.cleaned_data.get("group"))
    context = {"title": _("Debtors"), "form": form,
               "csv_query": _csv_query(request, request.GET)}
    if valid:
        group = form.cleaned_data.get("group")
        today = timezone.localdate()
        buckets, total = reports.debtors_summary(group=group, today=today)
        for bucket in buckets:
            bucket.label = _bucket_label(bucket)
        queryset = reports.debtors_queryset(group=group).select_related(
            "subscriber", "subscriber__group")
        paginator = Paginator(queryset, DEBTORS_PER_PAGE)
        page = paginator.get_page(request.GET.get("p"))
        for account in page.object_list:
            account.days = reports.age_days(account.since, today)
            account.debt = -account.balance
        chart = bar_chart([bucket.label for bucket in buckets],
                          [(_("debt"), [bucket.debt for bucket in buckets])],
                          title=_("Debtors"), value_text=money_text, height=260)
        context.update(buckets=buckets, total=total, page=page, chart=chart,
                       page_query=_page_query(request))
    return _render(request, "admin/asr_reports/debtors.html", context)


def _bucket_label(bucket) -> str:
    if bucket.high is None:
        return _("over %(days)d days") % {"days": bucket.low - 1}
    return _("%(low)d–%(high)d days") % {"low": bucket.low, "high": bucket.high}


def debtors_csv(group) -> StreamingHttpResponse:
    today = timezone.localdate()
    queryset = reports.debtors_queryset(group=group).values_list(
        "subscriber__contract_number", "subscriber__name", "subscriber__group__name",
        "balance", "since")
    csv_amount = csv_amount_writer()

    def rows():
        for contract, name, group_name, balance, since in queryset.iterator(
                chunk_size=CSV_CHUNK):
            days = reports.age_days(since, today)
            yield [contract, name, group_name, csv_amount(-balance),
                   timezone.localtime(since).date().isoformat() if since else "",
                   "" if days is None else days]

    header = [_("contract number"), _("name"), _("group"), _("debt"),
              _("below zero since"), _("days")]
    return csv_response(f"debtors-{today:%Y%m%d}.csv", header, rows())


def _csv_query(request, data) -> str:
    query = request.GET.copy() if request.GET else _querydict(data)
    query.pop("p", None)
    query["format"] = "csv"
    return query.urlencode()


def _page_query(request) -> str:
    query = request.GET.copy()
    query.pop("p", None)
    return query.urlencode()


def _querydict(data: dict):
    from django.http import QueryDict

    query = QueryDict(mutable=True)
    query.update(data)
    return query


def report_urls(site) -> list:
    from asr_billing.core import admin_monthly_reports as monthly

    wrap = site.admin_view
    return [
        path("reports/payments/", wrap(payments_view), name="asr_report_payments"),
        path("reports/debtors/", wrap(debtors_view), name="asr_report_debtors"),
        path("reports/charges/", wrap(monthly.charges_view), name="asr_report_charges"),
        path("reports/movement/", wrap(monthly.movement_view), name="asr_report_movement"),
        path("reports/tariff-mix/", wrap(monthly.mix_view), name="asr_report_mix"),
    ]


def visible_reports(user) -> list[tuple[str, str]]:
    """(url name, title) of the reports ``user`` may open, for the dashboard's card."""
    result = []
    if user.has_perm("finance.view_operation"):
        result.append(("admin:asr_report_payments", _("Payments by operator")))
        result.append(("admin:asr_report_charges", _("Charges by tariff and service; ARPU")))
    if user.has_perm("subscribers.view_subscriber"):
        result.append(("admin:asr_report_debtors", _("Debtors")))
        result.append(("admin:asr_report_movement", _("Subscriber movement")))
        result.append(("admin:asr_report_mix", _("Tariff mix")))
    return result

