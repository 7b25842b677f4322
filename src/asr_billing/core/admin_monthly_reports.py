"""The admin's monthly report pages (issue 14): charges and ARPU, subscriber movement,
tariff mix. Each has a month-range and group filter, a table, an SVG chart and a streamed
CSV in the format of core/admin_reports.py (UTF-8 BOM, ``;``, the language's decimal
mark, months as ``YYYY-MM``). The figures come from core/monthly_reports.py."""

from __future__ import annotations

from datetime import date

from django import forms
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from asr_billing.core import monthly_reports as reports
from asr_billing.core.admin_mixins import money_text
from asr_billing.core.admin_reports import (
    _check,
    _csv_query,
    _group_field,
    _render,
    bad_request,
    csv_amount_writer,
    csv_response,
)
from asr_billing.core.svg_chart import bar_chart

MONTH_FORMATS = ("%Y-%m",)


class MonthRangeForm(forms.Form):
    month_from = forms.DateField(label=gettext_lazy("from month"), input_formats=MONTH_FORMATS,
                                 widget=forms.DateInput(attrs={"type": "month"},
                                                        format="%Y-%m"))
    month_to = forms.DateField(label=gettext_lazy("to month"), input_formats=MONTH_FORMATS,
                               widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"] = _group_field()
        for name in ("month_from", "month_to"):
            self.fields[name].error_messages["invalid"] = _(
                "Enter a month as YYYY-MM.")

    def clean(self):
        data = super().clean()
        start, end = data.get("month_from"), data.get("month_to")
        if start and end:
            if start > end:
                raise forms.ValidationError(_("The start month is after the end month."))
            if len(reports.months(start, end)) > reports.MAX_MONTHS:
                raise forms.ValidationError(
                    _("The range is too long: at most %(months)d months.")
                    % {"months": reports.MAX_MONTHS})
        return data


def _form(request):
    """The form from the query, or the last twelve months up to this one."""
    if "month_from" in request.GET:
        return MonthRangeForm(request.GET), request.GET
    this = timezone.localdate().replace(day=1)
    start = this.replace(year=this.year - 1, month=this.month + 1) if this.month < 12 \
        else this.replace(month=1)
    data = {"month_from": f"{start:%Y-%m}", "month_to": f"{this:%Y-%m}"}
    return MonthRangeForm(data), data


def _label(month: date) -> str:
    return f"{month:%Y-%m}"


def _filename(name: str, filters: dict) -> str:
    return f"{name}-{filters['month_from']:%Y%m}-{filters['month_to']:%Y%m}.csv"


def _page(request, *, permission: str, template: str, title: str, csv, build):
    _check(request, permission)
    form, data = _form(request)
    valid = form.is_valid()
    if request.GET.get("format") == "csv":
        if not valid:
            return bad_request(form)
        return csv(form.cleaned_data)
    context = {"title": title, "form": form, "csv_query": _csv_query(request, data)}
    if valid:
        context.update(build(form.cleaned_data))
    return _render(request, template, context)


# ---------------------------------------------------------------- charges and ARPU


def charges_view(request):
    def build(filters):
        report = reports.charges_report(**filters)
        labels = [_label(row.period) for row in report.rows]
        series = [(column.name, [row.cells[n].amount for row in report.rows])
                  for n, column in enumerate(report.columns)]
        return {"report": report,
                "chart": bar_chart(labels, series, title=_("Charges"), value_text=money_text)}

    return _page(request, permission="finance.view_operation",
                 template="admin/asr_reports/charges.html",
                 title=_("Charges by tariff and service; ARPU"), csv=charges_csv, build=build)


def charges_csv(filters: dict) -> StreamingHttpResponse:
    amount = csv_amount_writer()
    kinds = {reports.TARIFF: _("tariff"), reports.SERVICE: _("service")}
    month_total = _("total")

    def rows():
        # The per-item rows come from one GROUP BY (ordered by month); each month that has
        # charges closes with its total, the subscribers charged and ARPU.
        charged = reports.charged_subscribers(**filters)
        current, count, total = None, 0, reports.ZERO

        def close():
            value = reports.arpu(total, charged.get(current, 0))
            return [_label(current), month_total, "", count, charged.get(current, 0),
                    amount(total), "" if value is None else amount(value)]

        for row in reports.charge_rows(**filters):
            if current is not None and row["period"] != current:
                yield close()
                count, total = 0, reports.ZERO
            current = row["period"]
            count += row["count"]
            total += row["amount"]
            yield [_label(row["period"]), kinds[row["kind"]], row["name"], row["count"],
                   row["subscribers"], amount(row["amount"]), ""]
        if current is not None:
            yield close()

    header = [_("month"), _("kind"), _("tariff or service"), _("charges"), _("subscribers"),
              _("amount"), _("ARPU")]
    return csv_response(_filename("charges", filters), header, rows())


# ---------------------------------------------------------------- subscriber movement


def movement_view(request):
    def build(filters):
        report = reports.movement_report(**filters)
        labels = [_label(row.period) for row in report.rows]
        series = [
            (_("connected"), [row.connected for row in report.rows]),
            (_("disconnected"), [row.disconnected for row in report.rows]),
            (_("reconnected"), [row.reconnected for row in report.rows]),
            (_("on voluntary block"), [row.on_block for row in report.rows]),
        ]
        return {"report": report, "chart": bar_chart(labels, series, title=_("Subscriber movement"),
                                                     stacked=False, whole=True)}

    return _page(request, permission="subscribers.view_subscriber",
                 template="admin/asr_reports/movement.html", title=_("Subscriber movement"),
                 csv=movement_csv, build=build)


def movement_csv(filters: dict) -> StreamingHttpResponse:
    def rows():
        for row in reports.movement_report(**filters).rows:
            yield [_label(row.period), row.connected, row.disconnected, row.reconnected,
                   row.net, row.on_block]

    header = [_("month"), _("connected"), _("disconnected"), _("reconnected"), _("net"),
              _("on voluntary block")]
    return csv_response(_filename("movement", filters), header, rows())


# ---------------------------------------------------------------- tariff mix


def mix_view(request):
    def build(filters):
        report = reports.mix_report(**filters)
        labels = [_label(row.period) for row in report.rows]
        series = [(tariff.name, [row.cells[n] for row in report.rows])
                  for n, tariff in enumerate(report.tariffs)]
        return {"report": report, "chart": bar_chart(labels, series, title=_("Tariff mix"),
                                                          whole=True)}

    return _page(request, permission="subscribers.view_subscriber",
                 template="admin/asr_reports/mix.html", title=_("Tariff mix"), csv=mix_csv,
                 build=build)


def mix_csv(filters: dict) -> StreamingHttpResponse:
    def rows():
        for row in reports.mix_rows(**filters):
            yield [_label(row["period"]), row["name"], row["subscribers"]]

    header = [_("month"), _("tariff"), _("subscribers")]
    return csv_response(_filename("tariff-mix", filters), header, rows())
