"""The cabinet's Tariff page: the current tariff, a change already scheduled (cancel it
when it is the subscriber's to cancel), the tariffs they may choose, and a confirmation
step with the day the change takes effect and the first charge on the new tariff. The
rule and the writes are billing.tariff_choice's; its refusals are said on the page and
nothing changes."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from asr_billing.billing import tariff_choice
from asr_billing.cabinet import selectors
from asr_billing.cabinet.services import session_actor
from asr_billing.cabinet.web.auth import cabinet_page
from asr_billing.cabinet.web.words import in_words
from asr_billing.core.errors import ApplicationError
from asr_billing.tariffs.models import Tariff


def _subscriber(request):
    """The subscriber with the scheduled tariff too (one query; the session's copy has
    only the current one)."""
    from asr_billing.subscribers.models import Subscriber

    return Subscriber.objects.select_related("account", "tariff", "tariff_next").get(
        pk=request.cabinet.login.subscriber_id)


@cabinet_page
def tariff(request):
    subscriber = _subscriber(request)
    day = selectors.today()
    return render(request, "cabinet/tariff.html", {
        "nav": "tariff", "login": request.cabinet.login, "subscriber": subscriber,
        "tariff": subscriber.tariff, "choices": tariff_choice.choices(subscriber),
        "refusal": tariff_choice.refusal(subscriber, None, balance=subscriber.account.balance),
        "scheduled": subscriber.tariff_next, "scheduled_on": subscriber.tariff_next_date,
        "cancellable": tariff_choice.cancellable(subscriber),
        "starts": tariff_choice.change_day(subscriber.tariff, day),
    })


@cabinet_page
def tariff_choose(request, tariff_id: int):
    subscriber = _subscriber(request)
    chosen = Tariff.objects.filter(pk=tariff_id, is_active=True).first()
    if chosen is None:
        raise Http404
    day = selectors.today()
    starts = tariff_choice.change_day(subscriber.tariff, day)
    error = tariff_choice.refusal(subscriber, chosen, balance=subscriber.account.balance)
    if request.method == "POST" and error is None:
        try:
            _changed, starts = tariff_choice.tariff_choose(
                subscriber=subscriber, tariff_id=chosen.pk, today=day,
                actor=session_actor(request.cabinet.login))
        except ApplicationError as exc:
            error = in_words(exc)
        else:
            messages.success(request, _("Your tariff changes to %(name)s from %(date)s.") % {
                "name": chosen.name, "date": starts.strftime("%d.%m.%Y")})
            return redirect("cabinet:tariff")
    return render(request, "cabinet/tariff_confirm.html", {
        "nav": "tariff", "login": request.cabinet.login, "tariff": subscriber.tariff,
        "chosen": chosen, "starts": starts, "error": error,
        "first": tariff_choice.first_charge(chosen, starts),
        "replaces": subscriber.tariff_next if subscriber.tariff_next_id != chosen.pk else None,
    }, status=400 if error and request.method == "POST" else 200)


@cabinet_page
def tariff_cancel(request):
    if request.method == "POST":
        subscriber = _subscriber(request)
        try:
            tariff_choice.tariff_choice_cancel(
                subscriber=subscriber, actor=session_actor(request.cabinet.login))
        except ApplicationError as exc:
            messages.error(request, in_words(exc))
        else:
            messages.success(request, _("The tariff change is cancelled; your tariff stays "
                                        "%(name)s.") % {"name": subscriber.tariff.name})
    return redirect("cabinet:tariff")
