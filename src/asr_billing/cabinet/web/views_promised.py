"""The cabinet's Promised payment page: the terms (amount, days, when it ends, how often,
only to lift a cut-off) before confirming; the one in force, if any. The decision is
billing.services.promised_payment_take's, as for web_cabinet.set_promise_pay: its refusal
(Carbon's text, which clients compare, so Russian in both languages) is said on the page
and nothing changes."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from asr_billing.billing.options import billing_options, promised_terms
from asr_billing.billing.periods import add_local_days
from asr_billing.billing.services import promised_payment_take
from asr_billing.cabinet import selectors
from asr_billing.cabinet.services import session_actor
from asr_billing.cabinet.web.auth import cabinet_page
from asr_billing.cabinet.web.words import in_words
from asr_billing.core.errors import ApplicationError


@cabinet_page
def promised(request):
    login = request.cabinet.login
    subscriber = login.subscriber
    options = billing_options()
    terms = promised_terms(options, subscriber.tariff)
    error = None
    if request.method == "POST":
        try:
            taken = promised_payment_take(subscriber=subscriber, actor=session_actor(login))
        except ApplicationError as exc:
            error = in_words(exc)
        else:
            messages.success(request, _(
                "A promised payment of %(amount)s is added until %(until)s.") % {
                "amount": taken.amount,
                "until": selectors.local(taken.expires_at).strftime("%d.%m.%Y %H:%M")})
            return redirect("cabinet:home")
    in_force = selectors.promised_payment_open(subscriber.pk)
    return render(request, "cabinet/promised.html", {
        "nav": "promised", "terms": terms, "in_force": in_force, "error": error,
        "login": request.cabinet.login,
        "ends": selectors.local(add_local_days(timezone.now(), terms.days, options.time_zone))
        if terms.days > 0 else None,
        "negbal": subscriber.negbal,
    }, status=400 if error else 200)
