"""The cabinet's Voluntary block page: the limits and the cost, two dates, a confirmation
step with what will happen, then billing.services.voluntary_block_create — the service
web_cabinet.block_user calls, with its checks and Carbon's refusal texts (said on the
page, nothing changed); lifting a block in force or cancelling a planned one goes through
voluntary_block_lift, as web_cabinet's unblock does."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from asr_billing.billing.options import billing_options
from asr_billing.billing.selectors import voluntary_block_current
from asr_billing.billing.services import voluntary_block_create, voluntary_block_lift
from asr_billing.cabinet import selectors
from asr_billing.cabinet.services import session_actor
from asr_billing.cabinet.web.auth import cabinet_page
from asr_billing.cabinet.web.views_history import DATE_FORMATS
from asr_billing.cabinet.web.words import in_words
from asr_billing.core.errors import ApplicationError

INVALID = gettext_lazy("Enter a date such as 2025-01-31 or 31.01.2025.")


class BlockDates(forms.Form):
    start = forms.DateField(label=gettext_lazy("First day"), input_formats=DATE_FORMATS,
                            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                            error_messages={"invalid": INVALID,
                                            "required": gettext_lazy("Enter the first day.")})
    end = forms.DateField(label=gettext_lazy("Last day"), input_formats=DATE_FORMATS,
                          widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                          error_messages={"invalid": INVALID,
                                          "required": gettext_lazy("Enter the last day.")})

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", _("The end date is before the start date."))
        return data


@cabinet_page
def vblock(request):
    login = request.cabinet.login
    subscriber = login.subscriber
    options = billing_options()
    day = selectors.today()
    block = voluntary_block_current(subscriber.pk, day)
    context = {"nav": "vblock", "options": options, "current": block, "today": day,
    "login": request.cabinet.login,
               "latest_start": day + timedelta(days=options.vblock_max_start_days)}
    if block is not None:
        return render(request, "cabinet/vblock.html", context)
    form = BlockDates(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        if "confirm" in request.POST:
            try:
                made = voluntary_block_create(subscriber=subscriber, start_date=start,
                                              end_date=end, actor=session_actor(login))
            except ApplicationError as exc:
                context["error"], status = in_words(exc), 400
            else:
                messages.success(request, _("A voluntary block from %(first)s to %(last)s is "
                                            "set.") % {"first": made.start_date.strftime(
                                                "%d.%m.%Y"), "last": made.end_date.strftime(
                                                "%d.%m.%Y")})
                return redirect("cabinet:vblock")
        else:
            context.update(confirm=True, start=start, end=end, days=(end - start).days + 1)
    elif request.method == "POST":
        status = 400
    context["form"] = form
    return render(request, "cabinet/vblock.html", context, status=status)


@cabinet_page
def vblock_lift(request):
    login = request.cabinet.login
    if request.method == "POST":
        try:
            result = voluntary_block_lift(subscriber=login.subscriber, actor=session_actor(login))
        except ApplicationError as exc:
            messages.error(request, in_words(exc))
        else:
            messages.success(request, in_words(result.message))
    return redirect("cabinet:vblock")
