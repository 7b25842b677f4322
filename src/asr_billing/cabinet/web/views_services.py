"""The cabinet's Services page: what is connected, what can be, and a confirmation step
that shows the cost and the date before anything changes. The rules (may the cabinet
connect it, is the money enough, is the subscriber blocked) are the subscriber service's
own (subscribers.services_uslugi), the same ones web_cabinet.usluga_* calls apply."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from asr_billing.cabinet import selectors
from asr_billing.cabinet.services import cabinet_service_connect, cabinet_service_disconnect
from asr_billing.cabinet.web.auth import cabinet_page
from asr_billing.cabinet.web.words import in_words
from asr_billing.core.errors import ApplicationError
from asr_billing.finance.selectors import money_available
from asr_billing.subscribers.services_uslugi import service_first_charge
from asr_billing.tariffs.models import Service


def _available(subscriber):
    account, tariff = subscriber.account, subscriber.tariff
    return max(money_available(
        balance=account.balance, credit_limit=account.credit_limit,
        promised=account.promised_amount,
        threshold=tariff.disconnect_threshold if tariff is not None else 0), 0)


@cabinet_page
def services(request):
    subscriber = request.cabinet.login.subscriber
    day = selectors.today()
    connected = selectors.services_connected(subscriber.pk, day)
    running = {link.service_id for link in connected if link.disabled_on is None}
    offered = [s for s in selectors.services_offered() if s.id not in running]
    return render(request, "cabinet/services.html", {
        "nav": "services", "connected": connected, "offered": offered, "today": day,
        "login": request.cabinet.login,
    })


@cabinet_page
def service_connect(request, service_id: int):
    subscriber = request.cabinet.login.subscriber
    service = Service.objects.filter(pk=service_id, is_active=True, is_show_web=True).first()
    if service is None:
        raise Http404
    day = selectors.today()
    error = None
    if request.method == "POST":
        try:
            cabinet_service_connect(session=request.cabinet, service_id=service.pk)
        except ApplicationError as exc:
            error = in_words(exc)
        else:
            messages.success(request, _("%(name)s is connected.") % {"name": service.name})
            return redirect("cabinet:services")
    return render(request, "cabinet/service_confirm.html", {
        "nav": "services", "service": service, "action": "connect", "error": error,
        "login": request.cabinet.login,
        "cost": service_first_charge(service, day), "starts": day,
        "available": _available(subscriber),
    }, status=400 if error else 200)


@cabinet_page
def service_disconnect(request, link_id: int):
    subscriber = request.cabinet.login.subscriber
    day = selectors.today()
    link = next((link for link in selectors.services_connected(subscriber.pk, day)
                 if link.pk == link_id and link.disabled_on is None), None)
    if link is None:
        raise Http404  # not this subscriber's, or not connected
    error = None
    if request.method == "POST":
        try:
            cabinet_service_disconnect(session=request.cabinet, link_id=link.pk)
        except ApplicationError as exc:
            error = in_words(exc)
        else:
            messages.success(request, _("%(name)s is disconnected.") % {"name": link.service.name})
            return redirect("cabinet:services")
    return render(request, "cabinet/service_confirm.html", {
        "nav": "services", "service": link.service, "action": "disconnect", "error": error,
        "login": request.cabinet.login,
        "link": link, "last_day": max(day, link.enabled_on - timedelta(days=1)),
        "stops": max(link.enabled_on, day + timedelta(days=1)),
        "not_started": link.enabled_on > day,
    }, status=400 if error else 200)
