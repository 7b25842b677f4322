"""Payments and charges: the subscriber's ledger, newest first, a page at a time, filtered
by local dates, and the same rows as a CSV download (streamed: any length, constant
memory). Reads go through cabinet.selectors (ledger_totals, ledger_page, ledger_all)."""

from __future__ import annotations

import csv
from datetime import date

from django import forms
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from asr_billing.cabinet import selectors
from asr_billing.cabinet.web.auth import cabinet_page
from asr_billing.core.money import fmt
from asr_billing.finance.models import OperationType

PER_PAGE = 25
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)
DATE_FORMATS = ["%Y-%m-%d", "%d.%m.%Y"]  # the date picker's; typed by hand


class HistoryFilter(forms.Form):
    first = forms.DateField(label=gettext_lazy("From"), required=False, input_formats=DATE_FORMATS,
                            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                            error_messages={"invalid": gettext_lazy(
                                "Enter a date such as 2025-01-31 or 31.01.2025.")})
    last = forms.DateField(label=gettext_lazy("To"), required=False, input_formats=DATE_FORMATS,
                           widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                           error_messages={"invalid": gettext_lazy(
                               "Enter a date such as 2025-01-31 or 31.01.2025.")})

    def clean(self):
        data = super().clean()
        for name in ("first", "last"):
            value = data.get(name)
            if value is not None and not EARLIEST <= value <= LATEST:
                self.add_error(name, _("Enter a date from %(first)s to %(last)s.") % {
                    "first": EARLIEST.isoformat(), "last": LATEST.isoformat()})
        first, last = data.get("first"), data.get("last")
        if first and last and first > last:
            self.add_error("last", _("The end date is before the start date."))
        return data


def _page_number(value, pages: int) -> int:
    """1 to ``pages``: junk is the first page, beyond the end the last."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return 1
    return min(max(number, 1), pages)


def _query(first: date | None, last: date | None, **more) -> str:
    from urllib.parse import urlencode

    values = {"first": first.isoformat() if first else "",
              "last": last.isoformat() if last else "", **more}
    return urlencode({k: v for k, v in values.items() if v != ""})


@cabinet_page
def history(request):
    session = request.cabinet
    form = HistoryFilter(request.GET or None)
    context = {"nav": "history", "login": session.login, "subscriber": session.login.subscriber,
               "form": form}
    if request.GET and not form.is_valid():
        return render(request, "cabinet/history.html", context, status=400)
    first = form.cleaned_data.get("first") if form.is_bound else None
    last = form.cleaned_data.get("last") if form.is_bound else None
    totals = selectors.ledger_totals(subscriber_id=session.subscriber_id, first=first,
                                     last=last)
    pages = max(1, -(-totals.count // PER_PAGE))
    page = _page_number(request.GET.get("page"), pages)
    rows = selectors.ledger_page(subscriber_id=session.subscriber_id, first=first, last=last,
                                 offset=(page - 1) * PER_PAGE, limit=PER_PAGE) \
        if totals.count else []
    context.update({
        "rows": rows, "totals": totals, "page": page, "pages": pages,
        "previous_query": _query(first, last, page=page - 1) if page > 1 else None,
        "next_query": _query(first, last, page=page + 1) if page < pages else None,
        "csv_query": _query(first, last),
        "first": first, "last": last,
    })
    return render(request, "cabinet/history.html", context)


class _Echo:
    def write(self, value):
        return value


def csv_columns() -> list[str]:
    return [_("Date"), _("Type"), _("Amount"), _("Balance after"), _("Description"),
            _("Paid through"), _("Reversed")]


def csv_row(row, zone, labels: dict, yes: str) -> list[str]:
    """One ledger row as text: the local date and time (ISO), amounts with 2 places and
    a minus for charges (exact, no grouping), the type by ``labels`` (translated before the
    response streams: the request's language is gone by then)."""
    from django.utils import timezone

    return [
        timezone.localtime(row.op_date, zone).strftime("%Y-%m-%d %H:%M:%S"),
        labels.get(row.type, str(row.type)),
        fmt(row.amount),
        fmt(row.balance_after),
        row.description,
        row.pay_operator.name if row.pay_operator_id else "",
        yes if getattr(row, "reversed_by", None) else "",
    ]


@cabinet_page
def history_csv(request):
    from zoneinfo import ZoneInfo

    session = request.cabinet
    form = HistoryFilter(request.GET or None)
    if request.GET and not form.is_valid():
        return render(request, "cabinet/history.html", {
            "nav": "history", "login": session.login, "subscriber": session.login.subscriber,
            "form": form}, status=400)
    first = form.cleaned_data.get("first") if form.is_bound else None
    last = form.cleaned_data.get("last") if form.is_bound else None
    zone = ZoneInfo(selectors.time_zone())
    rows = selectors.ledger_all(subscriber_id=session.subscriber_id, first=first, last=last)
    writer = csv.writer(_Echo())
    # The language is active now, not while the response streams: render the header and
    # the type names up front, and the rows through a generator that needs no request.
    header = writer.writerow(csv_columns())
    labels = {value: str(label) for value, label in OperationType.choices}
    yes = _("yes")

    def lines():
        yield "\ufeff" + header  # a BOM: spreadsheets then read the file as UTF-8
        for row in rows:
            yield writer.writerow(csv_row(row, zone, labels, yes))

    name = "-".join(part for part in (
        session.login.subscriber.contract_number,
        first.isoformat() if first else "", last.isoformat() if last else "") if part)
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="payments-{name}.csv"'
    return response
