"""The cabinet's Helpdesk and Notifications pages over the services and selectors the
web_cabinet helpdesk functions use (cabinet.helpdesk, cabinet.notifications,
cabinet.selectors_helpdesk): the tickets with their state and unread answers, a form to
open one, the dialog with a reply form and a close button; the ISP's notifications with
"mark read" and the ones read before. A refusal (an empty message, a closed ticket) is
said next to the form and nothing changes; another subscriber's ticket is a 404."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from asr_billing.cabinet import helpdesk, notifications, selectors, selectors_helpdesk
from asr_billing.cabinet.models import NotificationRead
from asr_billing.cabinet.services import session_actor
from asr_billing.cabinet.web.auth import cabinet_page
from asr_billing.cabinet.web.words import in_words
from asr_billing.core.errors import ApplicationError

TICKETS_PER_PAGE = 20
READ_SHOWN = 20  # notifications read before, newest read first


class TicketForm(forms.Form):
    subject = forms.CharField(label=gettext_lazy("Subject"), required=False,
                              max_length=helpdesk.SUBJECT_MAX)
    text = forms.CharField(label=gettext_lazy("Your question"), max_length=helpdesk.TEXT_MAX,
                           widget=forms.Textarea(attrs={"rows": 5}),
                           error_messages={"required": gettext_lazy("Write your question.")})


class ReplyForm(forms.Form):
    text = forms.CharField(label=gettext_lazy("Your message"), max_length=helpdesk.TEXT_MAX,
                           widget=forms.Textarea(attrs={"rows": 4}),
                           error_messages={"required": gettext_lazy("Write your message.")})


def _page_number(value) -> int:
    try:
        return max(int(value), 1)
    except (TypeError, ValueError):
        return 1


@cabinet_page
def helpdesk_list(request):
    subscriber = request.cabinet.login.subscriber
    form = TicketForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                ticket = helpdesk.ticket_create(subscriber=subscriber,
                                                subject=form.cleaned_data["subject"],
                                                text=form.cleaned_data["text"])
            except ApplicationError as exc:
                form.add_error("text", in_words(exc))
            else:
                messages.success(request, _("Ticket #%(id)d is sent to support.")
                                 % {"id": ticket.pk})
                return redirect("cabinet:ticket", ticket_id=ticket.pk)
        status = 400
    number = _page_number(request.GET.get("page"))
    rows, count = selectors_helpdesk.tickets_page(
        subscriber_id=subscriber.pk, offset=(number - 1) * TICKETS_PER_PAGE,
        limit=TICKETS_PER_PAGE)
    pages = max(1, -(-count // TICKETS_PER_PAGE))
    if not rows and count:  # past the end: the last page
        number = pages
        rows, count = selectors_helpdesk.tickets_page(
            subscriber_id=subscriber.pk, offset=(number - 1) * TICKETS_PER_PAGE,
            limit=TICKETS_PER_PAGE)
    return render(request, "cabinet/helpdesk.html", {
        "nav": "helpdesk", "login": request.cabinet.login, "form": form,
        "tickets": rows, "count": count, "page": number, "pages": pages,
        "previous_page": number - 1 if number > 1 else None,
        "next_page": number + 1 if number < pages else None,
    }, status=status)


@cabinet_page
def ticket(request, ticket_id: int):
    subscriber = request.cabinet.login.subscriber
    found = selectors_helpdesk.ticket_for(subscriber.pk, ticket_id)
    if found is None:
        raise Http404
    form = ReplyForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                helpdesk.ticket_comment(subscriber=subscriber, ticket_id=found.pk,
                                        text=form.cleaned_data["text"])
            except ApplicationError as exc:
                form.add_error("text", in_words(exc))
            else:
                messages.success(request, _("Your message is sent."))
                return redirect("cabinet:ticket", ticket_id=found.pk)
        status = 400
    dialog = selectors_helpdesk.ticket_messages(found.pk)
    unread = {m.pk for m in dialog if m.author == "operator" and m.read_at is None}
    if unread and request.method == "GET":
        # Seeing the page is reading support's answers (web_cabinet's comments call marks
        # them the same way); the ones new to this visit stay highlighted.
        helpdesk.ticket_mark_read(subscriber=subscriber, ticket_id=found.pk)
    return render(request, "cabinet/ticket.html", {
        "nav": "helpdesk", "login": request.cabinet.login, "ticket": found,
        "dialog": dialog, "unread": unread, "form": form,
    }, status=status)


@cabinet_page
def ticket_close(request, ticket_id: int):
    login = request.cabinet.login
    if request.method == "POST":
        try:
            helpdesk.ticket_close_own(subscriber=login.subscriber, ticket_id=ticket_id,
                                      actor=session_actor(login))
        except helpdesk.NotYourTicket:
            raise Http404 from None
        except ApplicationError as exc:
            messages.error(request, in_words(exc))
        else:
            messages.success(request, _("Ticket #%(id)d is closed.") % {"id": ticket_id})
    return redirect("cabinet:ticket", ticket_id=ticket_id)


@cabinet_page
def notifications_page(request):
    subscriber = request.cabinet.login.subscriber
    notices = selectors_helpdesk.cabinet_notices(subscriber, day=selectors.today())
    read = list(NotificationRead.objects.filter(subscriber_id=subscriber.pk)
                .select_related("notification").order_by("-read_at", "-id")[:READ_SHOWN])
    return render(request, "cabinet/notifications.html", {
        "nav": "notifications", "login": request.cabinet.login,
        "notices": notices, "read": read,
    })


@cabinet_page
def notification_read(request, notification_id: int):
    subscriber = request.cabinet.login.subscriber
    if request.method == "POST":
        try:
            notifications.notification_mark_read(subscriber=subscriber,
                                                  notification_id=notification_id)
        except ApplicationError:
            raise Http404 from None
    return redirect("cabinet:notifications")
